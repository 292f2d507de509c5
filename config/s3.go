package config

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewClient builds an S3 client for the evidence store: static credentials
// when both keys are set, else the AWS default chain; a custom endpoint
// (MinIO) when one is set, else AWS S3. optFns change the client's options
// after these settings (telemetry.ClientCounters.InstrumentS3 counts its
// requests).
func (c S3) NewClient(ctx context.Context, optFns ...func(*s3.Options)) (*s3.Client, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(c.Region)}
	if c.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	settings := func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.UsePathStyle
	}
	return s3.NewFromConfig(awsCfg, append([]func(*s3.Options){settings}, optFns...)...), nil
}
