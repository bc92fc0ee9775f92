// Command pollexecution is the Lambda function of the PollExecution state: it describes
// the DataSync task execution and says how long to wait before the next poll.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/datasync"

	"github.com/dsmigrate/dsmigrate/internal/lambdaenv"
	"github.com/dsmigrate/dsmigrate/internal/pollexecution"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	var env lambdaenv.Reader
	home := env.Home()
	awsCfg := env.AWSConfig()
	h := &pollexecution.Handler{AccountID: home.AccountID, DataSync: datasync.NewFromConfig(awsCfg)}
	lambda.Start(h.Invoke)
}
