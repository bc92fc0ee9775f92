// Command createlocations is the Lambda function of the CreateLocations state: it gets or
// creates the DataSync S3 locations of both buckets in account B.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
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
	if err := env.Err(); err != nil {
		slog.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("cannot load the AWS configuration", "error", err.Error())
		os.Exit(1)
	}
	h := &createlocations.Handler{Config: cfg, DataSync: datasync.NewFromConfig(awsCfg)}
	lambda.Start(h.Handle)
}
