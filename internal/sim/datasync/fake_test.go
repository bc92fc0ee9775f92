package datasync

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// fakeBackend is an in-memory Backend: roles, a rule list for authorization, buckets
// whose object bodies live in temp files (so copies stream like the real store).
type fakeBackend struct {
	mu       sync.Mutex
	dir      string
	clock    time.Time // zero: real time
	settings Settings
	roles    map[string]identity.Role
	// allow: "principalArn|action|resource" with '*' wildcards in resource and action.
	allow   []string
	deny    []string
	trust   map[string]func(cond identity.Context) bool // role ARN → trust check
	buckets map[string]*fakeBucket
	n       int
	// headLies makes HeadObject report one byte more for these "bucket/key"s.
	headLies map[string]bool
	// conds records the condition keys of the last Authorize of each action.
	conds map[string]identity.Context
}

type fakeBucket struct {
	info BucketInfo
	objs map[string]*fakeObj
}

type fakeObj struct {
	info ObjectInfo
	path string
}

type fakeErr struct{ code, msg string }

func (e *fakeErr) Error() string        { return e.code + ": " + e.msg }
func (e *fakeErr) ErrorCode() string    { return e.code }
func (e *fakeErr) ErrorMessage() string { return e.msg }

func newFake(t testing.TB) *fakeBackend {
	return &fakeBackend{dir: t.TempDir(), settings: Settings{Region: "us-east-1", TimeScale: 0},
		roles: map[string]identity.Role{}, trust: map[string]func(identity.Context) bool{},
		buckets: map[string]*fakeBucket{}}
}

// set changes the fake under its lock.
func (f *fakeBackend) set(fn func(f *fakeBackend)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeBackend) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clock.IsZero() {
		return time.Now()
	}
	return f.clock
}

func (f *fakeBackend) Settings() Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings
}

func (f *fakeBackend) Role(arn string) (identity.Role, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.roles[arn]
	return r, ok
}

// addRole adds a role trusted by DataSync (optionally with a condition check).
func (f *fakeBackend) addRole(account, name string, created time.Time) string {
	arn := "arn:aws:iam::" + account + ":role/" + name
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles[arn] = identity.Role{Name: name, Arn: arn, AccountID: account, RoleID: "AROA" + strings.ToUpper(name), CreateDate: created}
	f.trust[arn] = func(identity.Context) bool { return true }
	return arn
}

func (f *fakeBackend) grant(principalArn, action, resource string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allow = append(f.allow, principalArn+"|"+action+"|"+resource)
}

func (f *fakeBackend) forbid(principalArn, action, resource string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deny = append(f.deny, principalArn+"|"+action+"|"+resource)
}

func ruleMatch(rules []string, p, action, resource string) bool {
	for _, r := range rules {
		parts := strings.SplitN(r, "|", 3)
		if (parts[0] == p || parts[0] == "*") && globMatch(parts[1], action) && globMatch(parts[2], resource) {
			return true
		}
	}
	return false
}

func (f *fakeBackend) Authorize(ctx context.Context, p identity.Principal, action, resource string, cond identity.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conds == nil {
		f.conds = map[string]identity.Context{}
	}
	f.conds[action] = cond
	pa := p.PrincipalArn()
	if ruleMatch(f.deny, pa, action, resource) || !ruleMatch(f.allow, pa, action, resource) {
		return &identity.AccessDeniedError{PrincipalArn: p.Arn, Action: action, Resource: resource,
			Reason: "because no identity-based policy allows the " + action + " action"}
	}
	return nil
}

func (f *fakeBackend) AssumeRoleAsService(ctx context.Context, roleArn, svc, session string, cond identity.Context) (identity.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.roles[roleArn]
	tr := f.trust[roleArn]
	if !ok || svc != "datasync.amazonaws.com" || tr == nil || !tr(cond) {
		return identity.Principal{}, &identity.AccessDeniedError{PrincipalArn: svc, Action: "sts:AssumeRole", Resource: roleArn}
	}
	return identity.SessionPrincipal(r.AccountID, r.Name, r.RoleID, session), nil
}

func (f *fakeBackend) addBucket(name, account string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buckets[name] = &fakeBucket{info: BucketInfo{Name: name, AccountID: account, Region: "us-east-1",
		Ownership: "BucketOwnerEnforced"}, objs: map[string]*fakeObj{}}
}

func (f *fakeBackend) Bucket(name string) (BucketInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[name]
	if !ok {
		return BucketInfo{}, false
	}
	return b.info, true
}

func (f *fakeBackend) bucket(name string) (*fakeBucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[name]
	if !ok {
		return nil, &fakeErr{"NoSuchBucket", "The specified bucket does not exist"}
	}
	return b, nil
}

func (f *fakeBackend) ListObjects(ctx context.Context, p identity.Principal, bucket, prefix, startAfter string, max int) ([]ObjectInfo, bool, error) {
	if err := f.Authorize(ctx, p, "s3:ListBucket", "arn:aws:s3:::"+bucket, nil); err != nil {
		return nil, false, err
	}
	b, err := f.bucket(bucket)
	if err != nil {
		return nil, false, err
	}
	if max <= 0 {
		max = 1000
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range b.objs {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	truncated := len(keys) > max
	if truncated {
		keys = keys[:max]
	}
	out := make([]ObjectInfo, len(keys))
	for i, k := range keys {
		out[i] = b.objs[k].info
	}
	return out, truncated, nil
}

func (f *fakeBackend) obj(bucket, key string) (*fakeObj, error) {
	b, err := f.bucket(bucket)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := b.objs[key]
	if !ok {
		return nil, &fakeErr{"NoSuchKey", "The specified key does not exist."}
	}
	return o, nil
}

func (f *fakeBackend) HeadObject(ctx context.Context, p identity.Principal, bucket, key string) (ObjectInfo, error) {
	if err := f.Authorize(ctx, p, "s3:GetObject", "arn:aws:s3:::"+bucket+"/"+key, nil); err != nil {
		return ObjectInfo{}, err
	}
	o, err := f.obj(bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	info := o.info
	f.mu.Lock()
	if f.headLies[bucket+"/"+key] {
		info.Size++
	}
	f.mu.Unlock()
	return info, nil
}

func (f *fakeBackend) GetObject(ctx context.Context, p identity.Principal, bucket, key string) (io.ReadCloser, ObjectInfo, error) {
	if err := f.Authorize(ctx, p, "s3:GetObject", "arn:aws:s3:::"+bucket+"/"+key, nil); err != nil {
		return nil, ObjectInfo{}, err
	}
	o, err := f.obj(bucket, key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	fh, err := os.Open(o.path)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	return fh, o.info, nil
}

func (f *fakeBackend) PutObject(ctx context.Context, p identity.Principal, bucket, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, error) {
	if err := f.Authorize(ctx, p, "s3:PutObject", "arn:aws:s3:::"+bucket+"/"+key, nil); err != nil {
		return ObjectInfo{}, err
	}
	b, err := f.bucket(bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	f.mu.Lock()
	f.n++
	path := filepath.Join(f.dir, fmt.Sprintf("obj-%d", f.n))
	f.mu.Unlock()
	fh, err := os.Create(path)
	if err != nil {
		return ObjectInfo{}, err
	}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(fh, h), r)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ObjectInfo{}, err
	}
	if n != size {
		return ObjectInfo{}, &fakeErr{"IncompleteBody", fmt.Sprintf("got %d bytes, want %d", n, size)}
	}
	info := ObjectInfo{Key: key, Size: n, ETag: `"` + hex.EncodeToString(h.Sum(nil)) + `"`,
		LastModified: f.Now(), StorageClass: meta.StorageClass, ContentType: meta.ContentType, Metadata: meta.Metadata}
	f.mu.Lock()
	old := b.objs[key]
	b.objs[key] = &fakeObj{info: info, path: path}
	f.mu.Unlock()
	if old != nil {
		os.Remove(old.path)
	}
	return info, nil
}

func (f *fakeBackend) DeleteObject(ctx context.Context, p identity.Principal, bucket, key string) error {
	if err := f.Authorize(ctx, p, "s3:DeleteObject", "arn:aws:s3:::"+bucket+"/"+key, nil); err != nil {
		return err
	}
	b, err := f.bucket(bucket)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if o, ok := b.objs[key]; ok {
		os.Remove(o.path)
		delete(b.objs, key)
	}
	return nil
}

// seed stores an object directly (no authorization).
func (f *fakeBackend) seed(t testing.TB, bucket, key, body string) {
	t.Helper()
	if _, err := f.PutObject(context.Background(), identity.Principal{Arn: "seed"}, bucket, key,
		strings.NewReader(body), int64(len(body)), ObjectMeta{}); err != nil {
		t.Fatalf("seed %s/%s: %v", bucket, key, err)
	}
}

// body reads an object's content directly.
func (f *fakeBackend) body(t testing.TB, bucket, key string) (string, bool) {
	t.Helper()
	o, err := f.obj(bucket, key)
	if err != nil {
		return "", false
	}
	b, err := os.ReadFile(o.path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func (f *fakeBackend) keys(bucket string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.buckets[bucket].objs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
