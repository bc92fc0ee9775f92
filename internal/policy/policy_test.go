package policy

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/naming"
)

func TestStringList(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    StringList
		wantOut string
		wantErr bool
	}{
		{name: "string", give: `"s3:GetObject"`, want: StringList{"s3:GetObject"}, wantOut: `"s3:GetObject"`},
		{name: "list of one", give: `["s3:GetObject"]`, want: StringList{"s3:GetObject"}, wantOut: `"s3:GetObject"`},
		{name: "list", give: `["a","b"]`, want: StringList{"a", "b"}, wantOut: `["a","b"]`},
		{name: "empty list", give: `[]`, want: StringList{}, wantOut: `[]`},
		{name: "number", give: `1`, wantErr: true},
		{name: "list of numbers", give: `[1]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got StringList
			err := json.Unmarshal([]byte(tt.give), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			out, _ := json.Marshal(got)
			if string(out) != tt.wantOut {
				t.Errorf("marshal: got %s, want %s", out, tt.wantOut)
			}
			var back StringList
			if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("round trip: got %q (%v), want %q", back, err, got)
			}
		})
	}
}

func TestPrincipal(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    Principal
		wantOut string
		wantErr bool
	}{
		{name: "wildcard", give: `"*"`, want: Principal{Wildcard: true}, wantOut: `"*"`},
		{name: "aws string", give: `{"AWS":"arn:aws:iam::1:role/r"}`, want: Principal{AWS: StringList{"arn:aws:iam::1:role/r"}}, wantOut: `{"AWS":"arn:aws:iam::1:role/r"}`},
		{name: "aws list", give: `{"AWS":["a","b"]}`, want: Principal{AWS: StringList{"a", "b"}}, wantOut: `{"AWS":["a","b"]}`},
		{name: "aws wildcard", give: `{"AWS":"*"}`, want: Principal{AWS: StringList{"*"}}, wantOut: `{"AWS":"*"}`},
		{name: "service", give: `{"Service":"datasync.amazonaws.com"}`, want: Principal{Service: StringList{"datasync.amazonaws.com"}}, wantOut: `{"Service":"datasync.amazonaws.com"}`},
		{name: "all kinds", give: `{"Service":"s","AWS":"a","Federated":"f","CanonicalUser":"c"}`,
			want:    Principal{AWS: StringList{"a"}, Service: StringList{"s"}, Federated: StringList{"f"}, CanonicalUser: StringList{"c"}},
			wantOut: `{"AWS":"a","CanonicalUser":"c","Federated":"f","Service":"s"}`},
		{name: "other string", give: `"arn:aws:iam::1:root"`, wantErr: true},
		{name: "unknown key", give: `{"Robot":"x"}`, wantErr: true},
		{name: "number", give: `7`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Principal
			err := json.Unmarshal([]byte(tt.give), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			out, _ := json.Marshal(got)
			if string(out) != tt.wantOut {
				t.Errorf("marshal: got %s, want %s", out, tt.wantOut)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    *Document
		wantErr bool
	}{
		{name: "single statement object", give: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`,
			want: &Document{Version: Version, Statement: Statements{{Effect: "Allow", Action: StringList{"s3:*"}, Resource: StringList{"*"}}}}},
		{name: "list with id, not-elements and condition", give: `{"Id":"p1","Statement":[{"Sid":"A","Effect":"Deny","NotPrincipal":{"AWS":["a","b"]},"NotAction":"s3:Get*","NotResource":["r1","r2"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			want: &Document{ID: "p1", Statement: Statements{{Sid: "A", Effect: "Deny", NotPrincipal: &Principal{AWS: StringList{"a", "b"}},
				NotAction: StringList{"s3:Get*"}, NotResource: StringList{"r1", "r2"}, Condition: Condition{"Bool": {"aws:SecureTransport": {"false"}}}}}}},
		{name: "principal star", give: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":"x"}]}`,
			want: &Document{Statement: Statements{{Effect: "Allow", Principal: &Principal{Wildcard: true}, Action: StringList{"s3:GetObject"}, Resource: StringList{"x"}}}}},
		{name: "unquoted number and boolean condition values (AWS's own TLS and HTTPS examples)",
			give: `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"x","Condition":{"NumericLessThan":{"s3:TlsVersion":1.2},"Bool":{"aws:SecureTransport":false},"NumericEquals":{"s3:max-keys":[10,"20"]}}}]}`,
			want: &Document{Statement: Statements{{Effect: "Deny", Principal: &Principal{Wildcard: true}, Action: StringList{"s3:*"}, Resource: StringList{"x"},
				Condition: Condition{"NumericLessThan": {"s3:TlsVersion": {"1.2"}}, "Bool": {"aws:SecureTransport": {"false"}}, "NumericEquals": {"s3:max-keys": {"10", "20"}}}}}}},
		{name: "not json", give: `{`, wantErr: true},
		{name: "statement a string", give: `{"Statement":"x"}`, wantErr: true},
		{name: "condition value null", give: `{"Statement":[{"Effect":"Deny","Condition":{"Null":{"k":null}}}]}`, wantErr: true},
		{name: "condition value an object", give: `{"Statement":[{"Effect":"Deny","Condition":{"Bool":{"k":{"a":"b"}}}}]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.give)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				var m *MalformedError
				if !errors.As(err, &m) {
					t.Errorf("got %T, want *MalformedError", err)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			// Round trip through our own encoding.
			back, err := Parse(got.String())
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("round trip: got %+v (%v), want %+v", back, err, got)
			}
		})
	}
}

func TestEquivalent(t *testing.T) {
	base := TrustPolicy("222222222222", "ap-northeast-1", "aws")
	tests := []struct {
		name string
		give string
		want bool
	}{
		{name: "same text", give: base.String(), want: true},
		{name: "reformatted, single statement, lists", give: `{
  "Version": "2012-10-17",
  "Statement": {"Condition": {"ArnLike": {"aws:SourceArn": ["arn:aws:datasync:ap-northeast-1:222222222222:*"]},
    "StringEquals": {"aws:SourceAccount": "222222222222"}},
    "Action": ["sts:AssumeRole"], "Principal": {"Service": ["datasync.amazonaws.com"]}, "Effect": "Allow"}}`, want: true},
		{name: "other account", give: TrustPolicy("333333333333", "ap-northeast-1", "aws").String(), want: false},
		{name: "no condition", give: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.give)
			if err != nil {
				t.Fatal(err)
			}
			if got := base.Equivalent(*d); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTrustPolicy(t *testing.T) {
	got := TrustPolicy("222222222222", "cn-north-1", "aws-cn").String()
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws-cn:datasync:cn-north-1:222222222222:*"},"StringEquals":{"aws:SourceAccount":"222222222222"}}}]}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestRolePolicies(t *testing.T) {
	tests := []struct {
		name string
		give Document
		want string
	}{
		{name: "source, whole bucket", give: SourceRolePolicy("aws", "team-a-media", ""),
			want: `{"Version":"2012-10-17","Statement":[{"Sid":"ReadSourceBucket","Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-a-media"},{"Sid":"ReadSourceObjects","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectTagging","s3:GetObjectVersion","s3:GetObjectVersionTagging","s3:ListMultipartUploadParts"],"Resource":"arn:aws:s3:::team-a-media/*"}]}`},
		{name: "source, prefix", give: SourceRolePolicy("aws", "team-a-media", "photos/"),
			want: `{"Version":"2012-10-17","Statement":[{"Sid":"ReadSourceBucket","Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-a-media"},{"Sid":"ReadSourceObjects","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectTagging","s3:GetObjectVersion","s3:GetObjectVersionTagging","s3:ListMultipartUploadParts"],"Resource":"arn:aws:s3:::team-a-media/photos/*"}]}`},
		{name: "destination, prefix", give: DestinationRolePolicy("aws", "team-b-media", "from-a/"),
			want: `{"Version":"2012-10-17","Statement":[{"Sid":"WriteDestinationBucket","Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-b-media"},{"Sid":"WriteDestinationObjects","Effect":"Allow","Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:ListMultipartUploadParts","s3:GetObjectTagging","s3:PutObjectTagging","s3:PutObject"],"Resource":"arn:aws:s3:::team-b-media/from-a/*"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.give.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSourceActionsOnlyRead: nothing the transfer role or A's bucket policy gets on the
// source may write, delete or change anything.
func TestSourceActionsOnlyRead(t *testing.T) {
	for _, a := range append(slices.Clone(SourceBucketActions), SourceObjectActions...) {
		verb := strings.TrimPrefix(a, "s3:")
		if !strings.HasPrefix(verb, "Get") && !strings.HasPrefix(verb, "List") {
			t.Errorf("source action %s: want only Get* and List* actions", a)
		}
	}
	for _, want := range []string{"s3:GetObjectVersion", "s3:GetObjectVersionTagging"} {
		if !slices.Contains(SourceObjectActions, want) {
			t.Errorf("source object actions %v lack %s, which a versioned source bucket needs", SourceObjectActions, want)
		}
	}
}

const (
	transferArn = "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-transfer"
	callerArn   = "arn:aws:iam::222222222222:role/dsmigrate-createlocations"
	// An earlier version's grant: both roles under the path "/".
	earlierTransferArn = "arn:aws:iam::222222222222:role/dsmigrate-media-transfer"
	earlierConfigArn   = "arn:aws:iam::222222222222:role/dsmigrate-media-config"
)

var earlier = naming.EarlierRoleArns("aws", "222222222222", "dsmigrate", "media")

func ours(t testing.TB) []Statement {
	t.Helper()
	return SourceBucketStatements("aws", naming.SidsFor("media"), "team-a-media", "photos/", transferArn, callerArn)
}

// earlierGrant is what an earlier version wrote for migration media: both roles under the
// path "/", the destination's write set on the source.
const earlierGrant = `{"Version":"2012-10-17","Statement":[{"Sid":"Keep","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"},` +
	`{"Sid":"DsmmediaDataSyncCreateS3Location","Effect":"Allow","Principal":{"AWS":"` + callerArn + `"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"},` +
	`{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Principal":{"AWS":["` + earlierTransferArn + `","` + earlierConfigArn + `"]},"Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-a-media"},` +
	`{"Sid":"DsmmediaRolesObjectAccess","Effect":"Allow","Principal":{"AWS":["` + earlierTransferArn + `","` + earlierConfigArn + `"]},"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:ListMultipartUploadParts","s3:GetObjectTagging","s3:PutObjectTagging","s3:PutObject"],"Resource":"arn:aws:s3:::team-a-media/photos/*"}]}`

func TestSourceBucketStatements(t *testing.T) {
	got, _ := json.Marshal(ours(t))
	want := `[{"Sid":"DsmmediaDataSyncCreateS3Location","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/dsmigrate-createlocations"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"},` +
		`{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-transfer"},"Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-a-media"},` +
		`{"Sid":"DsmmediaRolesObjectAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-transfer"},"Action":["s3:GetObject","s3:GetObjectTagging","s3:GetObjectVersion","s3:GetObjectVersionTagging","s3:ListMultipartUploadParts"],"Resource":"arn:aws:s3:::team-a-media/photos/*"}]`
	if string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestEarlierGrantIsOurs: a re-run or a revoke after an upgrade still recognizes the grant
// an earlier version wrote (config role included) and replaces or removes it; without the
// earlier principals it is someone else's and nothing is touched.
func TestEarlierGrantIsOurs(t *testing.T) {
	keep := `{"Version":"2012-10-17","Statement":[{"Sid":"Keep","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`
	merged, err := Merge(earlierGrant, ours(t), earlier...)
	if err != nil {
		t.Fatalf("merge over an earlier grant: got %v, want nil", err)
	}
	wantMerged := keep[:len(keep)-2] + "," + strings.Join(jsonOf(t, ours(t)), ",") + "]}"
	if merged != wantMerged {
		t.Errorf("merge over an earlier grant:\ngot  %s\nwant %s", merged, wantMerged)
	}
	if strings.Contains(merged, earlierConfigArn) || strings.Contains(merged, "s3:PutObject") {
		t.Errorf("merge over an earlier grant left the config role or a write action: %s", merged)
	}
	revoked, deleted, err := RevokeOurs(earlierGrant, ours(t), earlier...)
	if err != nil || deleted || revoked != keep {
		t.Errorf("revoke of an earlier grant: got (%s, %v, %v), want (%s, false, nil)", revoked, deleted, err, keep)
	}
	if _, err := Merge(earlierGrant, ours(t)); !errors.As(err, new(*SidConflictError)) {
		t.Errorf("merge over an earlier grant without the earlier principals: got %v, want *SidConflictError", err)
	}
	if _, _, err := RevokeOurs(earlierGrant, ours(t)); !errors.As(err, new(*SidConflictError)) {
		t.Errorf("revoke of an earlier grant without the earlier principals: got %v, want *SidConflictError", err)
	}
}

// foreign policies used by the merge tests.
const (
	foreignList   = `{"Version":"2012-10-17","Id":"TeamA","Statement":[{"Sid":"DenyHTTP","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::team-a-media","arn:aws:s3:::team-a-media/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::team-a-media/*","XFuture":{"z":1,"a":[2]}}]}`
	foreignSingle = `{"Version":"2008-10-17","Statement":{"Sid":"One","Effect":"Allow","NotPrincipal":{"AWS":["arn:aws:iam::333333333333:root"]},"NotAction":"s3:Delete*","NotResource":"arn:aws:s3:::x/*"}}`
	foreignPretty = "{\n  \"Statement\": [\n    { \"Sid\": \"Dup\", \"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"a\"}, \"Action\": \"s3:GetObject\", \"Resource\": \"r\" },\n    { \"Sid\": \"Dup\", \"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"b\"}, \"Action\": \"s3:GetObject\", \"Resource\": \"r\" }\n  ],\n  \"Version\": \"2012-10-17\", \"Extra\": {\"k\": [1, 2.50, \"\\u00e9\"]}\n}"
)

func statementsOf(t *testing.T, text string) []string {
	t.Helper()
	p, err := parseRaw(text)
	if err != nil {
		t.Fatalf("parseRaw(%s): %v", text, err)
	}
	out := make([]string, len(p.statements))
	for i, s := range p.statements {
		out[i] = string(s)
	}
	return out
}

func TestMerge(t *testing.T) {
	o := ours(t)
	ourJSON := make([]string, len(o))
	for i, s := range o {
		b, _ := json.Marshal(s)
		ourJSON[i] = string(b)
	}
	tests := []struct {
		name    string
		give    string
		want    string
		wantErr any
	}{
		{name: "no policy", give: "", want: `{"Version":"2012-10-17","Statement":[` + strings.Join(ourJSON, ",") + `]}`},
		{name: "foreign list kept, ours appended", give: foreignList,
			want: foreignList[:len(foreignList)-2] + "," + strings.Join(ourJSON, ",") + "]}"},
		{name: "single statement becomes a list", give: foreignSingle,
			want: `{"Version":"2008-10-17","Statement":[{"Sid":"One","Effect":"Allow","NotPrincipal":{"AWS":["arn:aws:iam::333333333333:root"]},"NotAction":"s3:Delete*","NotResource":"arn:aws:s3:::x/*"},` + strings.Join(ourJSON, ",") + `]}`},
		{name: "pretty policy compacted, key order, duplicates and extra keys kept", give: foreignPretty,
			want: `{"Statement":[{"Sid":"Dup","Effect":"Allow","Principal":{"AWS":"a"},"Action":"s3:GetObject","Resource":"r"},{"Sid":"Dup","Effect":"Allow","Principal":{"AWS":"b"},"Action":"s3:GetObject","Resource":"r"},` + strings.Join(ourJSON, ",") + `],"Version":"2012-10-17","Extra":{"k":[1,2.50,"\u00e9"]}}`},
		{name: "stale ours replaced in place", give: `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"x"},{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Principal":{"AWS":"` + transferArn + `"},"Action":"s3:ListBucket","Resource":"old"},{"Sid":"B","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"y"}]}`,
			want: `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"x"},` + ourJSON[1] + `,{"Sid":"B","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"y"},` + ourJSON[0] + "," + ourJSON[2] + `]}`},
		{name: "our Sid twice collapses", give: `{"Statement":[{"Sid":"DsmmediaRolesObjectAccess","Effect":"Allow","Principal":{"AWS":["` + earlierConfigArn + `"]},"Action":"s3:GetObject","Resource":"a"},{"Sid":"DsmmediaRolesObjectAccess","Effect":"Allow","Principal":{"AWS":"` + transferArn + `"},"Action":"s3:GetObject","Resource":"b"}]}`,
			want: `{"Statement":[` + ourJSON[2] + "," + ourJSON[0] + "," + ourJSON[1] + `]}`},
		{name: "empty statement list", give: `{"Version":"2012-10-17","Statement":[]}`, want: `{"Version":"2012-10-17","Statement":[` + strings.Join(ourJSON, ",") + `]}`},
		{name: "ours from a run whose roles were deleted (S3 shows AROA ids)", give: `{"Statement":[{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Principal":{"AWS":["AROA3XFRBF535PLBIFPI4","` + earlierConfigArn + `"]},"Action":"s3:ListBucket","Resource":"old"}]}`,
			want: `{"Statement":[` + ourJSON[1] + "," + ourJSON[0] + "," + ourJSON[2] + `]}`},
		{name: "an account id is not a role id", give: `{"Statement":[{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Principal":{"AWS":"444444444444"},"Action":"s3:*","Resource":"*"}]}`, wantErr: &SidConflictError{}},
		{name: "foreign principal on our Sid", give: `{"Statement":[{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444444444444:root"},"Action":"s3:*","Resource":"*"}]}`, wantErr: &SidConflictError{}},
		{name: "wildcard principal on our Sid", give: `{"Statement":[{"Sid":"DsmmediaDataSyncCreateS3Location","Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*"}]}`, wantErr: &SidConflictError{}},
		{name: "NotPrincipal on our Sid", give: `{"Statement":[{"Sid":"DsmmediaDataSyncCreateS3Location","Effect":"Deny","NotPrincipal":{"AWS":"` + callerArn + `"},"Action":"s3:*","Resource":"*"}]}`, wantErr: &SidConflictError{}},
		{name: "service principal on our Sid", give: `{"Statement":[{"Sid":"DsmmediaRolesObjectAccess","Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com","AWS":"` + callerArn + `"},"Action":"s3:PutObject","Resource":"*"}]}`, wantErr: &SidConflictError{}},
		{name: "no principal on our Sid", give: `{"Statement":[{"Sid":"DsmmediaRolesObjectAccess","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`, wantErr: &SidConflictError{}},
		{name: "not json", give: `{"Statement":[`, wantErr: &MalformedError{}},
		{name: "not an object", give: `[]`, wantErr: &MalformedError{}},
		{name: "no Statement", give: `{"Version":"2012-10-17"}`, wantErr: &MalformedError{}},
		{name: "Statement twice", give: `{"Statement":[],"Statement":[]}`, wantErr: &MalformedError{}},
		{name: "statement not an object", give: `{"Statement":["x"]}`, wantErr: &MalformedError{}},
		{name: "trailing text", give: `{"Statement":[]} x`, wantErr: &MalformedError{}},
		{name: "too large", give: `{"Statement":[{"Sid":"Big","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + strings.Repeat("r", MaxBucketPolicyBytes-500) + `"}]}`, wantErr: &TooLargeError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Merge(tt.give, o, earlier...)
			if tt.wantErr != nil {
				target := reflect.New(reflect.TypeOf(tt.wantErr)).Interface()
				if !errors.As(err, target) {
					t.Fatalf("got %T %v, want %T", err, err, tt.wantErr)
				}
				if err.Error() == "" {
					t.Errorf("got an empty message")
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("got invalid JSON %s", got)
			}
			again, err := Merge(got, o, earlier...)
			if err != nil || again != got {
				t.Errorf("merge twice: got %s (%v), want %s", again, err, got)
			}
		})
	}
}

func TestMergeErrorDetails(t *testing.T) {
	_, err := Merge(`{"Statement":[{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Principal":{"AWS":"x"},"Action":"s3:*","Resource":"*"}]}`, ours(t))
	var c *SidConflictError
	if !errors.As(err, &c) || c.Sid != "DsmmediaRolesBucketAccess" || !strings.Contains(c.Message, `"x"`) {
		t.Errorf("got %#v, want a SidConflictError for DsmmediaRolesBucketAccess naming principal x", err)
	}
	big := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + strings.Repeat("r", MaxBucketPolicyBytes) + `"}]}`
	_, err = Merge(big, ours(t))
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != MaxBucketPolicyBytes || tl.Size <= MaxBucketPolicyBytes {
		t.Errorf("got %#v, want TooLargeError with size > limit %d", err, MaxBucketPolicyBytes)
	}
	if _, err := Merge("", []Statement{{Effect: "Allow"}}); err == nil {
		t.Errorf("merge of a Sid-less statement: got nil, want an error")
	}
}

// TestRevoke checks that revoking our statements leaves every other statement as it was.
func TestRevoke(t *testing.T) {
	merged := func(p string) string {
		m, err := Merge(p, ours(t))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	other := SourceBucketStatements("aws", naming.SidsFor("other"), "team-a-media", "", "arn:aws:iam::222222222222:role/o-t", callerArn)
	withOther, err := Merge(merged(foreignList), other)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		give        string
		want        string
		wantDeleted bool
	}{
		{name: "no policy", give: "", want: ""},
		{name: "only ours", give: merged(""), want: "", wantDeleted: true},
		{name: "foreign list restored", give: merged(foreignList), want: foreignList},
		{name: "single statement restored as list", give: merged(foreignSingle), want: `{"Version":"2008-10-17","Statement":[{"Sid":"One","Effect":"Allow","NotPrincipal":{"AWS":["arn:aws:iam::333333333333:root"]},"NotAction":"s3:Delete*","NotResource":"arn:aws:s3:::x/*"}]}`},
		{name: "nothing of ours: unchanged text", give: foreignPretty, want: foreignPretty},
		{name: "another migration's statements stay", give: withOther,
			want: foreignList[:len(foreignList)-2] + "," + strings.Join(jsonOf(t, other), ",") + "]}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, deleted, err := RevokeOurs(tt.give, ours(t))
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got != tt.want || deleted != tt.wantDeleted {
				t.Errorf("got (%s, %v), want (%s, %v)", got, deleted, tt.want, tt.wantDeleted)
			}
		})
	}
	if _, _, err := RevokeOurs("{", ours(t)); !errors.As(err, new(*MalformedError)) {
		t.Errorf("revoke of malformed: got %v, want *MalformedError", err)
	}
}

func TestRevokeOurs(t *testing.T) {
	merged, err := Merge(foreignList, ours(t))
	if err != nil {
		t.Fatal(err)
	}
	foreignWithOurSid := `{"Version":"2012-10-17","Statement":[{"Sid":"Keep","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:role/x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"},{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:role/dsmigrate-media-transfer"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"}]}`
	deletedRole := `{"Statement":[{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Principal":{"AWS":["AROAEXAMPLEID1234567","` + transferArn + `"]},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"}]}`
	tests := []struct {
		name        string
		give        string
		want        string
		wantDeleted bool
		wantSid     string // a *SidConflictError for this Sid
	}{
		{name: "no policy", give: "", want: ""},
		{name: "ours removed, foreign restored", give: merged, want: foreignList},
		{name: "ours with a deleted role's unique id", give: deletedRole, want: "", wantDeleted: true},
		{name: "another principal under our Sid is kept", give: foreignWithOurSid, wantSid: "DsmmediaRolesBucketAccess"},
		{name: "wildcard principal under our Sid is kept", give: `{"Statement":[{"Sid":"DsmmediaRolesObjectAccess","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"x"}]}`, wantSid: "DsmmediaRolesObjectAccess"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, deleted, err := RevokeOurs(tt.give, ours(t))
			if tt.wantSid != "" {
				var c *SidConflictError
				if !errors.As(err, &c) || c.Sid != tt.wantSid {
					t.Fatalf("got (%q, %v, %v), want a *SidConflictError for %s", got, deleted, err, tt.wantSid)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got != tt.want || deleted != tt.wantDeleted {
				t.Errorf("got (%s, %v), want (%s, %v)", got, deleted, tt.want, tt.wantDeleted)
			}
		})
	}
}

func jsonOf(t *testing.T, s []Statement) []string {
	out := make([]string, len(s))
	for i := range s {
		b, err := json.Marshal(s[i])
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

func TestRevokeRestoresForeignStatements(t *testing.T) {
	for _, p := range []string{foreignList, foreignSingle, foreignPretty, `{"Statement":[]}`} {
		m, err := Merge(p, ours(t))
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := RevokeOurs(m, ours(t))
		if err != nil {
			t.Fatal(err)
		}
		if got == "" {
			if len(statementsOf(t, p)) != 0 {
				t.Errorf("revoke of %s: got deleted, want its statements", p)
			}
			continue
		}
		if g, w := statementsOf(t, got), statementsOf(t, p); !reflect.DeepEqual(g, w) {
			t.Errorf("got statements %q, want %q", g, w)
		}
	}
}

func TestMergeSizeBoundary(t *testing.T) {
	withPad := func(n int) string {
		return `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + strings.Repeat("r", n) + `"}]}`
	}
	base, err := Merge(withPad(0), ours(t))
	if err != nil {
		t.Fatal(err)
	}
	exact := MaxBucketPolicyBytes - len(base)
	tests := []struct {
		name    string
		pad     int
		wantErr bool
	}{
		{name: "exactly the limit", pad: exact, wantErr: false},
		{name: "one byte over", pad: exact + 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Merge(withPad(tt.pad), ours(t))
			var tl *TooLargeError
			if tt.wantErr != errors.As(err, &tl) {
				t.Fatalf("got error %v, want TooLargeError %v", err, tt.wantErr)
			}
			if !tt.wantErr && len(got) != MaxBucketPolicyBytes {
				t.Errorf("got %d bytes, want %d", len(got), MaxBucketPolicyBytes)
			}
			if tt.wantErr && tl.Size != MaxBucketPolicyBytes+1 {
				t.Errorf("got size %d, want %d", tl.Size, MaxBucketPolicyBytes+1)
			}
		})
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		name string
		give string
		want int
	}{
		{name: "compact", give: `{"Statement":[]}`, want: 16},
		{name: "pretty", give: "{\n  \"Statement\": [ ]\n}\n", want: 16},
		{name: "spaces inside strings count", give: `{"Sid":"a b"}`, want: 13},
		{name: "UTF-8 bytes, not characters", give: `{"Sid":"é"}`, want: 12},
		{name: "not JSON counts as it is", give: "{ x", want: 3},
		{name: "empty", give: "", want: 0},
	}
	for _, tt := range tests {
		if got := Size(tt.give); got != tt.want {
			t.Errorf("%s: Size(%q) = %d, want %d", tt.name, tt.give, got, tt.want)
		}
	}
}

// TestMergeMeasuresWithoutWhitespace: an existing policy that S3 returns indented is
// measured, like the merged text Merge writes, without its whitespace: a pretty-printed
// policy of more than 20 KB whose compact merge fits is accepted, and one that does not
// fit is refused with the compact size.
func TestMergeMeasuresWithoutWhitespace(t *testing.T) {
	pretty := func(pad int) string {
		return "{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": [\n        {\n            \"Sid\": \"Big\",\n            \"Effect\": \"Allow\",\n" +
			"            \"Principal\": \"*\",\n            \"Action\": \"s3:GetObject\",\n            \"Resource\": \"" + strings.Repeat("r", pad) + "\"\n        }\n    ]\n}\n" +
			strings.Repeat(" \n", 1500)
	}
	base, err := Merge(pretty(0), ours(t))
	if err != nil {
		t.Fatal(err)
	}
	fit := MaxBucketPolicyBytes - Size(base)
	if len(pretty(fit)) <= MaxBucketPolicyBytes {
		t.Fatalf("the pretty policy is %d bytes, want more than %d for this test", len(pretty(fit)), MaxBucketPolicyBytes)
	}
	got, err := Merge(pretty(fit), ours(t))
	if err != nil || Size(got) != MaxBucketPolicyBytes || len(got) != MaxBucketPolicyBytes {
		t.Errorf("exactly the limit without whitespace: got %d bytes, %v; want %d and nil", len(got), err, MaxBucketPolicyBytes)
	}
	_, err = Merge(pretty(fit+1), ours(t))
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != MaxBucketPolicyBytes+1 {
		t.Errorf("one byte over without whitespace: got %v, want TooLargeError of %d bytes", err, MaxBucketPolicyBytes+1)
	}
}
