// Command starttask is the Lambda function of the StartTask state: it gets or creates the
// DataSync task and starts an execution unless one is already queued or running.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/datasync"

	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
	"github.com/dsmigrate/dsmigrate/internal/starttask"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	cfg := starttask.Config{Home: env.Home(), Prefix: env.RolePrefix(), Deployment: env.Deployment(), LogGroupArn: env.TaskLogGroupArn()}
	awsCfg := env.AWSConfig()
	h := &starttask.Handler{Config: cfg, DataSync: datasync.NewFromConfig(awsCfg)}
	lambda.Start(h.Invoke)
}
