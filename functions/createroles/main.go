// Command createroles is the Lambda function of the CreateRoles state: it gets or creates
// the two DataSync roles in account B.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dsmigrate/dsmigrate/internal/createroles"
	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	cfg := createroles.Config{
		Home:               env.Home(),
		RolePrefix:         env.RolePrefix(),
		BoundaryArn:        env.RoleBoundaryArn(),
		SourceBuckets:      env.Buckets(lambdaenv.SourceBuckets),
		DestinationBuckets: env.Buckets(lambdaenv.DestinationBuckets),
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
	h := &createroles.Handler{Config: cfg, IAM: iam.NewFromConfig(awsCfg)}
	lambda.Start(h.Handle)
}
