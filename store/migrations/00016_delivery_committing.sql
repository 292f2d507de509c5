-- +goose Up
-- A delivery's commit point (activities/deliverylog.go): the attempt that
-- holds the lease marks the row 'committing' just before the last byte of
-- the message goes to the receiver (the SMTP data's final dot, a webhook
-- body's last byte). A 'committing' row whose lease ran out belongs to an
-- attempt that died handing the message over: the next claim takes it as
-- sent rather than send it again. The new list holds the old one, so every
-- row passes; NOT VALID then VALIDATE checks them without a second lock
-- upgrade.
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_status_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_status_check
    CHECK (status IN ('sending', 'committing', 'sent', 'failed')) NOT VALID;
ALTER TABLE notification_deliveries VALIDATE CONSTRAINT notification_deliveries_status_check;

-- +goose Down
-- A row left 'committing' goes back to 'sending': the old code resends it
-- under the same id once its lease is over.
UPDATE notification_deliveries SET status = 'sending' WHERE status = 'committing';
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_status_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_status_check
    CHECK (status IN ('sending', 'sent', 'failed'));
