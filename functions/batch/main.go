// Command batch is the Lambda function of the batch state machine's Tasks: it checks and
// plans a batch before anything starts (PrepareBatch), reports a failed child
// (DescribeFailure) and reports the whole batch (ReportBatch).
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/dsmigrate/dsmigrate/internal/batch"
	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	cfg := batch.Config{
		Home:       env.Home(),
		Deployment: env.Deployment(),
		Limits: batch.Limits{
			MaxLiveMigrations:        env.Cap(lambdaenv.MaxLiveMigrations),
			MaxGrantsPerSourceBucket: env.Cap(lambdaenv.MaxGrantsPerSourceBucket),
		},
		StateMachineArn: env.StateMachineArn(),
	}
	awsCfg := env.AWSConfig()
	h := &batch.Handler{Config: cfg, SFN: sfn.NewFromConfig(awsCfg), S3: s3.NewFromConfig(awsCfg)}
	lambda.Start(h.Handle)
}
