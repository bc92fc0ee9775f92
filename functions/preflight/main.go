// Command preflight is the Lambda function of the Preflight state: it validates the
// migration request and checks both buckets without changing anything.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
	"github.com/dsmigrate/dsmigrate/internal/preflight"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	cfg := preflight.Config{
		Home:                     env.Home(),
		RolePrefix:               env.RolePrefix(),
		LocationsCallerRoleArn:   env.LocationsCallerRoleArn(),
		Deployment:               env.Deployment(),
		MaxLiveMigrations:        env.Cap(lambdaenv.MaxLiveMigrations),
		MaxGrantsPerSourceBucket: env.Cap(lambdaenv.MaxGrantsPerSourceBucket),
		StateMachineArn:          env.StateMachineArn(),
		DestinationBuckets:       env.Buckets(lambdaenv.DestinationBuckets),
	}
	awsCfg := env.AWSConfig()
	assumer := &sourceaccess.Assumer{Config: awsCfg, STS: sts.NewFromConfig(awsCfg)}
	h := &preflight.Handler{
		Config:    cfg,
		S3:        s3.NewFromConfig(awsCfg),
		SFN:       sfn.NewFromConfig(awsCfg),
		Assumer:   sourceaccess.S3Assumer[preflight.S3API]{Assumer: assumer},
		KMS:       kms.NewFromConfig(awsCfg),
		SourceKMS: sourceaccess.KMSAssumer[preflight.KMSAPI]{Assumer: assumer},
	}
	lambda.Start(h.Handle)
}
