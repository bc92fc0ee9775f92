// Command record is the Lambda function of the WriteRecord and WriteFailureRecord states:
// it writes a migration's JSON record to the report bucket of task.report.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
	"github.com/dsmigrate/dsmigrate/internal/record"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	cfg := record.Config{Home: env.Home(), DestinationBuckets: env.Buckets(lambdaenv.DestinationBuckets)}
	awsCfg := env.AWSConfig()
	h := &record.Handler{Config: cfg, S3: s3.NewFromConfig(awsCfg)}
	lambda.Start(h.Handle)
}
