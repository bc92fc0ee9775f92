// Command starttask is the Lambda function of the StartTask state: it gets or creates the
// DataSync task and starts an execution unless one is already queued or running.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/datasync"

	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
	"github.com/dsmigrate/dsmigrate/internal/starttask"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	cfg := starttask.Config{Home: env.Home(), Prefix: env.RolePrefix(), Deployment: env.Deployment(), LogGroupArn: env.TaskLogGroupArn()}
	if err := env.Err(); err != nil {
		slog.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("cannot load the AWS configuration", "error", err.Error())
		os.Exit(1)
	}
	h := &starttask.Handler{Config: cfg, DataSync: datasync.NewFromConfig(awsCfg)}
	lambda.Start(h.Invoke)
}
