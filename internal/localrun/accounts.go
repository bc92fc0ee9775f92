package localrun

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// AccountClients are SDK clients acting as one account's admin user.
type AccountClients struct {
	AccountID string
	Config    aws.Config
	IAM       *iam.Client
	S3        *s3.Client
}

func (s *Sim) clientsFor(accountID string) (*AccountClients, error) {
	for _, a := range s.Config.Accounts {
		if a.ID != accountID || len(a.Users) == 0 {
			continue
		}
		u := a.Users[0]
		cfg := aws.Config{
			Region:       s.Config.Region,
			Credentials:  credentials.NewStaticCredentialsProvider(u.AccessKeyID, u.SecretAccessKey, ""),
			BaseEndpoint: aws.String(s.Addr),
		}
		return &AccountClients{
			AccountID: accountID,
			Config:    cfg,
			IAM:       iam.NewFromConfig(cfg),
			S3:        s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		}, nil
	}
	return nil, fmt.Errorf("no user for account %s in the simulator config", accountID)
}

// createRole creates a role with its trust and inline policies, as CloudFormation would.
// A role that already exists (a second run on a kept simulator) is updated in place.
func createRole(ctx context.Context, c *iam.Client, rs *RoleSpec) error {
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(rs.Name),
		Path:                     aws.String(rs.Path),
		AssumeRolePolicyDocument: aws.String(string(rs.Trust)),
		Description:              aws.String("local copy of " + rs.LogicalID),
	})
	var exists *iamtypes.EntityAlreadyExistsException
	if errors.As(err, &exists) {
		_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(rs.Name), PolicyDocument: aws.String(string(rs.Trust))})
	}
	if err != nil {
		return fmt.Errorf("create role %s (%s): %w", rs.Name, rs.LogicalID, err)
	}
	names := make([]string, 0, len(rs.Policies))
	for n := range rs.Policies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName:       aws.String(rs.Name),
			PolicyName:     aws.String(n),
			PolicyDocument: aws.String(string(rs.Policies[n])),
		}); err != nil {
			return fmt.Errorf("put policy %s on role %s (%s): %w", n, rs.Name, rs.LogicalID, err)
		}
	}
	return nil
}
