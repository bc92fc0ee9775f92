// Command createroles is the Lambda function of the CreateRoles state: it gets or creates
// the two DataSync roles in account B.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
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
	awsCfg := env.AWSConfig()
	h := &createroles.Handler{Config: cfg, IAM: iam.NewFromConfig(awsCfg)}
	lambda.Start(h.Handle)
}
