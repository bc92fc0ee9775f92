// Command teardown is the Lambda function of the TeardownCheck and DeleteResources states:
// it finds the DataSync task(s), locations and roles of a migration by tag and deletes
// them.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
	"github.com/dsmigrate/dsmigrate/internal/teardown"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	cfg := teardown.Config{Home: env.Home(), Prefix: env.RolePrefix()}
	awsCfg := env.AWSConfig()
	h := &teardown.Handler{Config: cfg, DataSync: datasync.NewFromConfig(awsCfg), IAM: iam.NewFromConfig(awsCfg)}
	lambda.Start(h.Invoke)
}
