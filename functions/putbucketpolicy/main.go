// Command putbucketpolicy is the Lambda function of the PutBucketPolicy,
// RevokeBucketPolicy and ExplainFailure states: it adds our statements to the source bucket
// policy in account A, removes them, or says after a failure what became of them.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dsmigrate/dsmigrate/internal/kmsgrant"
	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
	"github.com/dsmigrate/dsmigrate/internal/putbucketpolicy"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	cfg := putbucketpolicy.Config{
		Home:                   env.Home(),
		RolePrefix:             env.RolePrefix(),
		LocationsCallerRoleArn: env.LocationsCallerRoleArn(),
		SettleDelay:            putbucketpolicy.DefaultSettleDelay,
		GrantSettle:            putbucketpolicy.DefaultGrantSettle,
	}
	awsCfg := env.AWSConfig()
	assumer := &sourceaccess.Assumer{Config: awsCfg, STS: sts.NewFromConfig(awsCfg)}
	h := &putbucketpolicy.Handler{
		Config:  cfg,
		Assumer: sourceaccess.S3Assumer[putbucketpolicy.S3API]{Assumer: assumer},
		KMS:     sourceaccess.KMSAssumer[kmsgrant.KMSAPI]{Assumer: assumer},
	}
	lambda.Start(h.Invoke)
}
