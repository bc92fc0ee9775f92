package localrun

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/dsmigrate/dsmigrate/internal/batch"
)

// The batch function describes executions of the migration state machine to find a batch's
// earlier children. A migration's description holds its input and output, the source
// bucket policy as it was before the grant among them, so the function may read only the
// executions named as batch children (<batchId>_<migrationId>_<attempt>), not every
// migration of the deployment.
func TestAttackBatchDescribesOnlyItsChildren(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	ctx := testCtx(t)
	child := batch.ExecutionName("fleet", "photos", 1)
	for _, name := range []string{"media-2026-11", child} {
		if err := env.Sim.PutExecution(ctx, env.StateMachineArn, name, "SUCCEEDED"); err != nil {
			t.Fatal(err)
		}
	}
	fn := sfn.NewFromConfig(asFunction(t, env, "batch").Config)
	describe := func(name string) error {
		_, err := fn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(batch.ExecutionArn(env.StateMachineArn, name))})
		return err
	}
	wantAllowed(t, "DescribeExecution of a batch child", describe(child))

	g := findGuard(t, env, "batch", "DescribeBatchChildren")
	g.remove(t, func(st map[string]any) {
		st["Resource"] = strings.Replace(st["Resource"].(string), "*_*_*", "*", 1)
	})
	wantAllowed(t, "DescribeExecution of a single migration, without the name pattern", describe("media-2026-11"))
	g.restore(t)
	wantDenied(t, "DescribeExecution of a single migration", describe("media-2026-11"))
}
