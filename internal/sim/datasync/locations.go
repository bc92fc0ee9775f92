package datasync

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// DataSync's service principal, the one trust policies name.
const servicePrincipal = "datasync.amazonaws.com"

type location struct {
	arn          string
	account      string
	region       string
	bucket       string
	prefix       string // S3 key prefix of the subdirectory: "" or "dir/sub/"
	roleArn      string
	storageClass string
	created      time.Time
	tags         map[string]string
}

func (l *location) uri() string { return "s3://" + l.bucket + "/" + l.prefix }

type store struct {
	locations map[string]*location
	tasks     map[string]*task
	execs     map[string]*execution
	// slr records the accounts where the DataSync service-linked role exists.
	slr map[string]bool
}

func newStore() *store {
	return &store{locations: map[string]*location{}, tasks: map[string]*task{},
		execs: map[string]*execution{}, slr: map[string]bool{}}
}

var (
	bucketArnRE    = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):s3:::([a-zA-Z0-9.\-_]{1,255})$`)
	roleArnRE      = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::([0-9]{12}):role/.*$`)
	subdirectoryRE = regexp.MustCompile(`^[a-zA-Z0-9_\-\+\./\(\)\p{Zs}]*$`)
	storageClasses = []string{"STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
		"GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_INSTANT_RETRIEVAL"}
)

// normalizePrefix turns a location subdirectory into an S3 key prefix:
// "", "/" → ""; "/a/b" → "a/b/".
func normalizePrefix(sub string) string {
	parts := strings.Split(sub, "/")
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	return strings.Join(keep, "/") + "/"
}

// AccessTestFailed is the field report's message (verbatim) for a caller or role
// without s3:ListBucket on the bucket.
func accessTestFailed(bucket string) *apiErr {
	return invalid("DataSync location access test failed: could not perform s3:HeadBucket on bucket %s. Access denied. Ensure bucket access role has s3:ListBucket permission.", bucket)
}

func unableToAssume() *apiErr {
	return invalid("Unable to assume role. Reason: Access denied when calling sts:AssumeRole")
}

// assumeAsDataSync is what DataSync does before using a bucket access role: check the
// role exists and is old enough (IAM propagation), then sts:AssumeRole as the
// service principal with the confused-deputy condition keys.
func (s *Service) assumeAsDataSync(ctx context.Context, roleArn, account, sourceArn string) (identity.Principal, error) {
	role, ok := s.b.Role(roleArn)
	if !ok {
		return identity.Principal{}, unableToAssume()
	}
	// IAM is eventually consistent: a role created, or whose trust or inline policies
	// changed, within the propagation delay is not usable by DataSync yet (IAM User
	// Guide, Troubleshooting IAM, "Changes that I make are not always immediately
	// visible").
	changed := role.PoliciesChanged
	if changed.IsZero() {
		changed = role.CreateDate
	}
	if s.now().Sub(changed) < s.b.Settings().PropagationDelay {
		return identity.Principal{}, unableToAssume()
	}
	cond := identity.Context{
		"aws:SourceAccount": {account},
		"aws:SourceArn":     {sourceArn},
	}
	p, err := s.b.AssumeRoleAsService(ctx, roleArn, servicePrincipal, "AWS-DataSync-"+hex17()[:10], cond)
	if err != nil {
		if isCode(err, "AccessDenied") {
			return identity.Principal{}, unableToAssume()
		}
		return identity.Principal{}, internal(err)
	}
	return p, nil
}

func (s *Service) createLocationS3(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in createLocationS3In
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.authorizeWith(ctx, caller, "CreateLocationS3", "*", tagContext(in.Tags)); err != nil {
		return nil, err
	}
	// Input validation (API reference constraints).
	if in.S3BucketArn == nil {
		return nil, validation("null", "s3BucketArn", "Member must not be null")
	}
	m := bucketArnRE.FindStringSubmatch(*in.S3BucketArn)
	if m == nil {
		return nil, validation(*in.S3BucketArn, "s3BucketArn", "Member must satisfy regular expression pattern: ^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):s3:::[a-zA-Z0-9.\\-_]{1,255}$")
	}
	bucketName := m[2]
	if in.S3Config == nil || in.S3Config.BucketAccessRoleArn == nil {
		return nil, validation("null", "s3Config", "Member must not be null")
	}
	roleArn := *in.S3Config.BucketAccessRoleArn
	rm := roleArnRE.FindStringSubmatch(roleArn)
	if rm == nil {
		return nil, validation(roleArn, "s3Config.bucketAccessRoleArn", "Member must satisfy regular expression pattern: ^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::[0-9]{12}:role/.*$")
	}
	sub := str(in.Subdirectory)
	if len(sub) > 4096 || !subdirectoryRE.MatchString(sub) {
		return nil, validation(sub, "subdirectory", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-\\+\\./\\(\\)\\p{Zs}]*$")
	}
	class := "STANDARD"
	if in.S3StorageClass != nil {
		class = *in.S3StorageClass
		found := false
		for _, c := range storageClasses {
			found = found || c == class
		}
		if !found {
			return nil, validation(class, "s3StorageClass", "Member must satisfy enum value set: ["+strings.Join(storageClasses, ", ")+"]")
		}
	}
	if len(in.AgentArns) > 0 {
		return nil, invalid("Agents are not supported by this simulator for S3 locations.")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}

	// The seed's first pitfall: the role must be in the caller's account.
	if rm[2] != caller.AccountID {
		return nil, invalid("Cross-account pass role is not allowed")
	}
	// Passing the role to DataSync needs iam:PassRole.
	if err := s.b.Authorize(ctx, caller, "iam:PassRole", roleArn,
		identity.Context{"iam:PassedToService": {servicePrincipal}}); err != nil {
		if isCode(err, "AccessDenied") {
			return nil, accessDenied(err)
		}
		return nil, internal(err)
	}

	region := s.b.Settings().Region
	arn := fmt.Sprintf("arn:aws:datasync:%s:%s:location/loc-%s", region, caller.AccountID, hex17())
	if err := s.authorizeTagOnCreate(ctx, caller, arn, in.Tags); err != nil {
		return nil, err
	}

	// DataSync assumes the role (trust + propagation delay).
	session, err := s.assumeAsDataSync(ctx, roleArn, caller.AccountID, arn)
	if err != nil {
		return nil, err
	}
	// Access test: the bucket must exist, the caller and the role need s3:ListBucket.
	bucket, ok := s.b.Bucket(bucketName)
	if !ok {
		return nil, invalid("DataSync location access test failed: could not perform s3:HeadBucket on bucket %s. Bucket not found.", bucketName)
	}
	bucketRes := "arn:aws:s3:::" + bucketName
	for _, p := range []identity.Principal{caller, session} {
		if err := s.b.Authorize(ctx, p, "s3:ListBucket", bucketRes, nil); err != nil {
			if isCode(err, "AccessDenied") {
				return nil, accessTestFailed(bucketName)
			}
			return nil, internal(err)
		}
	}

	l := &location{arn: arn, account: caller.AccountID, region: region, bucket: bucket.Name,
		prefix: normalizePrefix(sub), roleArn: roleArn, storageClass: class,
		created: s.now(), tags: map[string]string{}}
	mergeTags(l.tags, in.Tags)
	s.mu.Lock()
	s.st.locations[arn] = l
	s.mu.Unlock()
	return struct {
		LocationArn string `json:"LocationArn"`
	}{arn}, nil
}

// ownLocation returns the caller's location with arn (s.mu held).
func (s *Service) ownLocation(caller identity.Principal, arn string) (*location, error) {
	l, ok := s.st.locations[arn]
	if !ok || l.account != caller.AccountID {
		return nil, notFound()
	}
	return l, nil
}

func (s *Service) describeLocationS3(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in arnIn
	if err := s.decodeAuthorized(ctx, caller, body, &in, "DescribeLocationS3", func() string { return str(in.LocationArn) }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.ownLocation(caller, str(in.LocationArn))
	if err != nil {
		return nil, err
	}
	return describeLocationS3Out{CreationTime: ep(l.created), LocationArn: l.arn, LocationUri: l.uri(),
		S3Config: &s3Config{BucketAccessRoleArn: sp(l.roleArn)}, S3StorageClass: l.storageClass}, nil
}

func (s *Service) listLocations(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in listIn
	if err := s.decodeAuthorized(ctx, caller, body, &in, "ListLocations", func() string { return "*" }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var all []*location
	for _, l := range s.st.locations {
		if l.account != caller.AccountID {
			continue
		}
		keep := true
		for _, f := range in.Filters {
			ok, err := matchLocationFilter(l, f)
			if err != nil {
				s.mu.Unlock()
				return nil, err
			}
			keep = keep && ok
		}
		if keep {
			all = append(all, l)
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].arn < all[j].arn })
	from, to, next, err := page(len(all), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := make([]locationEntry, 0, to-from)
	for _, l := range all[from:to] {
		out = append(out, locationEntry{LocationArn: l.arn, LocationUri: l.uri()})
	}
	return struct {
		Locations []locationEntry `json:"Locations"`
		NextToken *string         `json:"NextToken,omitempty"`
	}{out, next}, nil
}

func matchLocationFilter(l *location, f listFilter) (bool, error) {
	var v string
	switch f.Name {
	case "LocationUri":
		v = l.uri()
	case "LocationType":
		v = "S3"
	case "CreationTime":
		return matchTime(l.created, f)
	default:
		return false, validation(f.Name, "filters.member.name", "Member must satisfy enum value set: [LocationUri, LocationType, CreationTime]")
	}
	return matchString(v, f)
}

func matchString(v string, f listFilter) (bool, error) {
	if len(f.Values) == 0 {
		return false, validation("[]", "filters.member.values", "Member must have length greater than or equal to 1")
	}
	switch f.Operator {
	case "Equals":
		return v == f.Values[0], nil
	case "NotEquals":
		return v != f.Values[0], nil
	case "In":
		for _, x := range f.Values {
			if v == x {
				return true, nil
			}
		}
		return false, nil
	case "Contains":
		return strings.Contains(v, f.Values[0]), nil
	case "NotContains":
		return !strings.Contains(v, f.Values[0]), nil
	case "BeginsWith":
		return strings.HasPrefix(v, f.Values[0]), nil
	}
	return false, invalid("Operator %s is not supported for this filter.", f.Operator)
}

func matchTime(t time.Time, f listFilter) (bool, error) {
	if len(f.Values) == 0 {
		return false, validation("[]", "filters.member.values", "Member must have length greater than or equal to 1")
	}
	ref, err := time.Parse(time.RFC3339, f.Values[0])
	if err != nil {
		return false, invalid("Invalid CreationTime filter value %q.", f.Values[0])
	}
	switch f.Operator {
	case "LessThan":
		return t.Before(ref), nil
	case "GreaterThan":
		return t.After(ref), nil
	}
	return false, invalid("Operator %s is not supported for this filter.", f.Operator)
}

// deleteLocation serves DeleteLocation (DataSync API Reference, DeleteLocation: "Deletes
// a transfer location resource from AWS DataSync"; request LocationArn, empty response).
func (s *Service) deleteLocation(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in arnIn
	if err := s.decodeAuthorized(ctx, caller, body, &in, "DeleteLocation", func() string { return str(in.LocationArn) }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.ownLocation(caller, str(in.LocationArn))
	if err != nil {
		return nil, err
	}
	delete(s.st.locations, l.arn)
	return struct{}{}, nil
}
