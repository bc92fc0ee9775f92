// Command createlocations is the Lambda function of the CreateLocations state: it gets or
// creates the DataSync S3 locations of both buckets in account B.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/datasync"

	"github.com/dsmigrate/dsmigrate/internal/createlocations"
	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	cfg := createlocations.Config{
		Home:                   env.Home(),
		RolePrefix:             env.RolePrefix(),
		LocationsCallerRoleArn: env.LocationsCallerRoleArn(),
	}
	awsCfg := env.AWSConfig()
	h := &createlocations.Handler{Config: cfg, DataSync: datasync.NewFromConfig(awsCfg)}
	lambda.Start(h.Handle)
}
