// Package sourceaccess builds S3 clients that act as one of the deployment's two roles in
// account A: Preflight's read role or PutBucketPolicy's policy-writer role
// (naming.SourceReadRoleName, SourcePolicyWriterRoleName). The function's own credentials
// call sts:AssumeRole and S3 is then called with the temporary credentials, in the source
// bucket's region. No external id is sent: each role trusts exactly one function role of
// this deployment by its ARN (docs/operate.md explains why that suffices).
package sourceaccess

import (
	"context"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Params says which role to assume and where the bucket is.
type Params struct {
	RoleArn     string
	MigrationID string // names the session, so CloudTrail in account A shows the migration
	Region      string // the source bucket's region
}

// SessionName is the STS role session name of a migration: "dsmigrate-<id>" (at most 42
// characters of [a-z0-9-], within STS's 2-64 characters of [\w+=,.@-]).
func SessionName(migrationID string) string { return "dsmigrate-" + migrationID }

// Assumer assumes a role in account A. Config is the function's aws.Config (its
// credentials, retryer and endpoint); STS is an STS client built from it.
type Assumer struct {
	Config aws.Config
	STS    stscreds.AssumeRoleAPIClient
	// S3Options are applied to every client, after the region and credentials.
	S3Options []func(*s3.Options)
}

// S3 assumes the role now, so that a refused AssumeRole is reported here and not as a
// failure of the first S3 call, and returns an S3 client that uses the role's credentials
// in p.Region. The credentials are cached for the client's lifetime (one invocation).
func (a *Assumer) S3(ctx context.Context, p Params) (*s3.Client, error) {
	creds, err := a.credentials(ctx, p)
	if err != nil {
		return nil, err
	}
	opts := append([]func(*s3.Options){func(o *s3.Options) {
		o.Region = p.Region
		o.Credentials = creds
	}}, a.S3Options...)
	return s3.NewFromConfig(a.Config, opts...), nil
}

// credentials assumes the role now and returns its cached credentials.
func (a *Assumer) credentials(ctx context.Context, p Params) (*aws.CredentialsCache, error) {
	provider := stscreds.NewAssumeRoleProvider(a.STS, p.RoleArn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = SessionName(p.MigrationID)
	})
	creds := aws.NewCredentialsCache(provider)
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("assume %s: %w", p.RoleArn, err)
	}
	return creds, nil
}

// KMS assumes the role now and returns a KMS client with its credentials in p.Region
// (the source keys are in the source bucket's region).
func (a *Assumer) KMS(ctx context.Context, p Params) (*kms.Client, error) {
	creds, err := a.credentials(ctx, p)
	if err != nil {
		return nil, err
	}
	return kms.NewFromConfig(a.Config, func(o *kms.Options) {
		o.Region = p.Region
		o.Credentials = creds
	}), nil
}

// KMSAssumer gives a step the KMS client of Assumer.KMS as C, the step's own interface
// (for example kmsgrant.KMSAPI).
type KMSAssumer[C any] struct{ *Assumer }

// AssumeKMS assumes the role (Assumer.KMS) and returns the client as C.
func (a KMSAssumer[C]) AssumeKMS(ctx context.Context, p Params) (C, error) {
	var client C
	c, err := a.KMS(ctx, p)
	if err != nil {
		return client, err
	}
	client, ok := any(c).(C)
	if !ok {
		return client, fmt.Errorf("*kms.Client does not implement %s", reflect.TypeFor[C]())
	}
	return client, nil
}

// S3Assumer gives a step the S3 client of Assumer.S3 as C, the step's own interface of
// the few S3 methods it calls (for example preflight.S3API); *s3.Client must implement C,
// which each step asserts next to its interface.
type S3Assumer[C any] struct{ *Assumer }

// AssumeS3 assumes the role (Assumer.S3) and returns the client as C.
func (a S3Assumer[C]) AssumeS3(ctx context.Context, p Params) (C, error) {
	var client C
	c, err := a.S3(ctx, p)
	if err != nil {
		return client, err
	}
	client, ok := any(c).(C)
	if !ok {
		return client, fmt.Errorf("*s3.Client does not implement %s", reflect.TypeFor[C]())
	}
	return client, nil
}
