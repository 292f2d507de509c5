-- +goose Up
-- A seller's identity documents, as the onboarding recorded them (the
-- bytes are in S3 under Object Lock): the read model answers them with
-- the seller.
ALTER TABLE sellers ADD COLUMN documents jsonb NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE sellers DROP COLUMN documents;
