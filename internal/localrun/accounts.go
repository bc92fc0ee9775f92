package localrun

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// AccountClients are SDK clients acting as one account's admin user.
type AccountClients struct {
	AccountID string
	Config    aws.Config
	IAM       *iam.Client
	S3        *s3.Client
	KMS       *kms.Client
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
			KMS:       kms.NewFromConfig(cfg),
		}, nil
	}
	return nil, fmt.Errorf("no user for account %s in the simulator config", accountID)
}

// createRole creates a role with its trust and inline policies, as CloudFormation would.
// A role that already exists (a second run on a kept simulator) is updated in place.
func createRole(ctx context.Context, c *iam.Client, rs *RoleSpec) error {
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(rs.Name),
		Path:                     aws.String(rs.Path),
		AssumeRolePolicyDocument: aws.String(string(rs.Trust)),
		Description:              aws.String("local copy of " + rs.LogicalID),
	}
	if rs.PermissionsBoundary != "" {
		in.PermissionsBoundary = aws.String(rs.PermissionsBoundary)
	}
	_, err := c.CreateRole(ctx, in)
	var exists *iamtypes.EntityAlreadyExistsException
	if errors.As(err, &exists) {
		_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(rs.Name), PolicyDocument: aws.String(string(rs.Trust))})
		if err == nil && rs.PermissionsBoundary != "" {
			_, err = c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(rs.Name), PermissionsBoundary: aws.String(rs.PermissionsBoundary)})
		}
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

// createManagedPolicies creates a stack's customer managed policies, as CloudFormation
// would, before the roles that may have them as permissions boundary. A policy that
// already exists (a kept simulator) gets the stack's document as a new default version
// when it differs.
func createManagedPolicies(ctx context.Context, c *iam.Client, policies []*ManagedPolicySpec) error {
	for _, mp := range policies {
		doc := string(mp.Document)
		_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(mp.Name), Path: aws.String(mp.Path),
			PolicyDocument: aws.String(doc), Description: aws.String("local copy of " + mp.LogicalID)})
		var exists *iamtypes.EntityAlreadyExistsException
		if errors.As(err, &exists) {
			err = updateManagedPolicy(ctx, c, mp.Arn, doc)
		}
		if err != nil {
			return fmt.Errorf("create managed policy %s (%s): %w", mp.Name, mp.LogicalID, err)
		}
	}
	return nil
}

func updateManagedPolicy(ctx context.Context, c *iam.Client, arn, doc string) error {
	p, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return err
	}
	v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return err
	}
	if current, err := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document)); err == nil && current == doc {
		return nil
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc), SetAsDefault: true})
	return err
}
