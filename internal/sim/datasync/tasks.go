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

// maxTasks is DataSync's quota of tasks per account and Region.
const maxTasks = 100

type task struct {
	arn, account, name string
	src, dst           string // location ARNs
	logGroup           string
	mode               string // ENHANCED | BASIC
	opts               options
	report             *taskReportConfig // TaskReportConfig, nil without one
	includes, excludes []filterRule
	created            time.Time
	tags               map[string]string
	running            *execution   // the execution in LAUNCHING..VERIFYING
	queue              []*execution // QUEUED executions, FIFO
	execOrder          []*execution // every execution, in start order
	runnerActive       bool
}

var (
	taskNameRE = regexp.MustCompile(`^[a-zA-Z0-9\s+=._:@/-]+$`)
	logGroupRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):logs:[a-z\-0-9]+:[0-9]{12}:log-group:([^:\*]*)(:\*)?$`)
)

var enumValues = map[string][]string{
	"Atime":                       {"NONE", "BEST_EFFORT"},
	"Gid":                         {"NONE", "INT_VALUE", "NAME", "BOTH"},
	"Uid":                         {"NONE", "INT_VALUE", "NAME", "BOTH"},
	"LogLevel":                    {"OFF", "BASIC", "TRANSFER"},
	"Mtime":                       {"NONE", "PRESERVE"},
	"ObjectTags":                  {"PRESERVE", "NONE"},
	"OverwriteMode":               {"ALWAYS", "NEVER"},
	"PosixPermissions":            {"NONE", "PRESERVE"},
	"PreserveDeletedFiles":        {"PRESERVE", "REMOVE"},
	"PreserveDevices":             {"NONE", "PRESERVE"},
	"SecurityDescriptorCopyFlags": {"NONE", "OWNER_DACL", "OWNER_DACL_SACL"},
	"TaskQueueing":                {"ENABLED", "DISABLED"},
	"TransferMode":                {"CHANGED", "ALL"},
	"VerifyMode":                  {"POINT_IN_TIME_CONSISTENT", "ONLY_FILES_TRANSFERRED", "NONE"},
}

func (o *options) fields() map[string]**string {
	return map[string]**string{
		"Atime": &o.Atime, "Gid": &o.Gid, "Uid": &o.Uid, "LogLevel": &o.LogLevel, "Mtime": &o.Mtime,
		"ObjectTags": &o.ObjectTags, "OverwriteMode": &o.OverwriteMode, "PosixPermissions": &o.PosixPermissions,
		"PreserveDeletedFiles": &o.PreserveDeletedFiles, "PreserveDevices": &o.PreserveDevices,
		"SecurityDescriptorCopyFlags": &o.SecurityDescriptorCopyFlags, "TaskQueueing": &o.TaskQueueing,
		"TransferMode": &o.TransferMode, "VerifyMode": &o.VerifyMode,
	}
}

// overlay returns base with every option given in top replacing it.
func overlay(base options, top *options) options {
	if top == nil {
		return base
	}
	out := base
	of := out.fields()
	for name, p := range top.fields() {
		if *p != nil {
			v := **p
			*of[name] = &v
		}
	}
	if top.BytesPerSecond != nil {
		v := *top.BytesPerSecond
		out.BytesPerSecond = &v
	}
	return out
}

// defaults are the options DataSync reports for an S3-to-S3 task that set none.
func defaults(mode string) options {
	verify := "POINT_IN_TIME_CONSISTENT"
	if mode == "ENHANCED" {
		verify = "ONLY_FILES_TRANSFERRED"
	}
	bps := int64(-1)
	return options{Atime: sp("BEST_EFFORT"), BytesPerSecond: &bps, Gid: sp("NONE"), LogLevel: sp("OFF"),
		Mtime: sp("PRESERVE"), ObjectTags: sp("PRESERVE"), OverwriteMode: sp("ALWAYS"),
		PosixPermissions: sp("NONE"), PreserveDeletedFiles: sp("PRESERVE"), PreserveDevices: sp("NONE"),
		SecurityDescriptorCopyFlags: sp("NONE"), TaskQueueing: sp("ENABLED"), TransferMode: sp("CHANGED"),
		Uid: sp("NONE"), VerifyMode: sp(verify)}
}

// checkEnums validates the enum members given in o (field path prefix for messages).
func checkEnums(o *options, prefix string) error {
	if o == nil {
		return nil
	}
	for name, p := range o.fields() {
		if *p == nil {
			continue
		}
		ok := false
		for _, v := range enumValues[name] {
			ok = ok || v == **p
		}
		if !ok {
			field := prefix + "." + strings.ToLower(name[:1]) + name[1:]
			return validation(**p, field, "Member must satisfy enum value set: ["+strings.Join(enumValues[name], ", ")+"]")
		}
	}
	if o.BytesPerSecond != nil && *o.BytesPerSecond < -1 {
		return validation(fmt.Sprint(*o.BytesPerSecond), prefix+".bytesPerSecond", "Member must have value greater than or equal to -1")
	}
	return nil
}

// checkOptions applies the documented cross-option rules to fully resolved options of
// an S3-to-S3 task.
func checkOptions(o options, mode string) error {
	// S3 is not a POSIX file system: POSIX metadata options must be NONE.
	for _, c := range []struct{ name, v, bad string }{
		{"PosixPermissions", *o.PosixPermissions, "PRESERVE"},
		{"Uid", *o.Uid, ""},
		{"Gid", *o.Gid, ""},
		{"PreserveDevices", *o.PreserveDevices, "PRESERVE"},
	} {
		if c.v != "NONE" && (c.bad == "" || c.v == c.bad) {
			return invalid("Invalid SyncOption value. Option: %s, Value: %s invalid for non-POSIX transfer. please use NONE.", c.name, c.v)
		}
	}
	if *o.SecurityDescriptorCopyFlags != "NONE" {
		return invalid("Invalid SyncOption value. Option: SecurityDescriptorCopyFlags, Value: %s invalid for non-SMB transfer. please use NONE.", *o.SecurityDescriptorCopyFlags)
	}
	// Atime BEST_EFFORT requires Mtime PRESERVE; Atime NONE requires Mtime NONE.
	if (*o.Atime == "BEST_EFFORT") != (*o.Mtime == "PRESERVE") {
		return invalid("Invalid SyncOption value. Option: Atime, Value: %s is not compatible with Mtime: %s. Atime BEST_EFFORT requires Mtime PRESERVE and Atime NONE requires Mtime NONE.", *o.Atime, *o.Mtime)
	}
	// "If you set PreserveDeletedFiles to REMOVE, you can't set TransferMode to ALL."
	if *o.PreserveDeletedFiles == "REMOVE" && *o.TransferMode == "ALL" {
		return invalid("Invalid SyncOption value. Option: PreserveDeletedFiles, Value: REMOVE cannot be used with TransferMode: ALL. When you transfer all data, DataSync doesn't scan your destination location and doesn't know what to delete.")
	}
	// Enhanced mode does not support POINT_IN_TIME_CONSISTENT.
	if mode == "ENHANCED" && *o.VerifyMode == "POINT_IN_TIME_CONSISTENT" {
		return invalid("Invalid SyncOption value. Option: VerifyMode, Value: POINT_IN_TIME_CONSISTENT is not supported for Enhanced mode tasks. please use ONLY_FILES_TRANSFERRED or NONE.")
	}
	return nil
}

func (s *Service) createTask(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in taskIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	// CreateTask's resources are the locations it joins (Service Authorization Reference,
	// AWS DataSync: CreateTask, resource type location*, condition keys aws:RequestTag,
	// aws:ResourceTag, aws:TagKeys): the caller needs it on both, each with its own tags.
	if in.SourceLocationArn != nil && in.DestinationLocationArn != nil {
		for _, loc := range []string{*in.SourceLocationArn, *in.DestinationLocationArn} {
			if err := s.authorizeWith(ctx, caller, "CreateTask", loc, tagContext(in.Tags)); err != nil {
				return nil, err
			}
		}
	}
	mode := "BASIC"
	if in.TaskMode != nil {
		mode = *in.TaskMode
		if mode != "BASIC" && mode != "ENHANCED" {
			return nil, validation(mode, "taskMode", "Member must satisfy enum value set: [BASIC, ENHANCED]")
		}
	}
	if in.SourceLocationArn == nil {
		return nil, validation("null", "sourceLocationArn", "Member must not be null")
	}
	if in.DestinationLocationArn == nil {
		return nil, validation("null", "destinationLocationArn", "Member must not be null")
	}
	if in.Name != nil && (len(*in.Name) > 256 || !taskNameRE.MatchString(*in.Name)) {
		return nil, validation(*in.Name, "name", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\s+=._:@/-]+$")
	}
	if in.CloudWatchLogGroupArn != nil && !logGroupRE.MatchString(*in.CloudWatchLogGroupArn) {
		return nil, validation(*in.CloudWatchLogGroupArn, "cloudWatchLogGroupArn", "Member must satisfy regular expression pattern: ^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):logs:[a-z\\-0-9]+:[0-9]{12}:log-group:([^:\\*]*)(:\\*)?$")
	}
	if in.ManifestConfig != nil || in.Schedule != nil {
		return nil, invalid("ManifestConfig and Schedule are not modelled by this simulator.")
	}
	if in.TaskReportConfig != nil {
		if _, err := validateReportConfig(in.TaskReportConfig, "taskReportConfig"); err != nil {
			return nil, err
		}
	}
	if err := checkEnums(in.Options, "options"); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if _, err := parseFilter(in.Includes, true); err != nil {
		return nil, err
	}
	if _, err := parseFilter(in.Excludes, false); err != nil {
		return nil, err
	}
	if len(filterChars(in.Includes))+len(filterChars(in.Excludes)) > 102400 {
		return nil, invalid("The total number of characters in include and exclude filters exceeds 102400.")
	}
	resolved := overlay(defaults(mode), in.Options)
	if err := checkOptions(resolved, mode); err != nil {
		return nil, err
	}

	s.mu.Lock()
	_, err := s.ownLocation(caller, *in.SourceLocationArn)
	if err == nil {
		_, err = s.ownLocation(caller, *in.DestinationLocationArn)
	}
	n := 0
	for _, t := range s.st.tasks {
		if t.account == caller.AccountID {
			n++
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if n >= maxTasks {
		return nil, invalid("You have reached the maximum number of tasks (%d) for this account in this Region.", maxTasks)
	}
	// A task report's role is passed to DataSync (iam:PassRole, as for a location's).
	if err := s.acceptReportConfig(ctx, caller, in.TaskReportConfig); err != nil {
		return nil, err
	}
	taskArn := fmt.Sprintf("arn:aws:datasync:%s:%s:task/task-%s", s.b.Settings().Region, caller.AccountID, hex17())
	if err := s.authorizeTagOnCreate(ctx, caller, taskArn, in.Tags); err != nil {
		return nil, err
	}
	// An Enhanced task needs the DataSync service-linked role, and CreateTask checks
	// iam:CreateServiceLinkedRole each time, also when the role already exists (the
	// DataSync User Guide's "DataSync API permissions: actions and resources" lists it
	// among CreateTask's actions, without a first-time exception).
	if mode == "ENHANCED" {
		slrArn := "arn:aws:iam::" + caller.AccountID + ":role/aws-service-role/datasync.amazonaws.com/AWSServiceRoleForDataSync"
		if err := s.b.Authorize(ctx, caller, "iam:CreateServiceLinkedRole", slrArn,
			identity.Context{"iam:AWSServiceName": {servicePrincipal}}); err != nil {
			if isCode(err, "AccessDenied") {
				return nil, accessDenied(err)
			}
			return nil, internal(err)
		}
	}

	t := &task{
		arn:     taskArn,
		account: caller.AccountID, name: str(in.Name), src: *in.SourceLocationArn, dst: *in.DestinationLocationArn,
		logGroup: str(in.CloudWatchLogGroupArn), mode: mode, opts: resolved, report: in.TaskReportConfig,
		includes: in.Includes, excludes: in.Excludes, created: s.now(), tags: map[string]string{},
	}
	mergeTags(t.tags, in.Tags)
	s.mu.Lock()
	if mode == "ENHANCED" {
		s.st.slr[caller.AccountID] = true
	}
	s.st.tasks[t.arn] = t
	s.mu.Unlock()
	return struct {
		TaskArn string `json:"TaskArn"`
	}{t.arn}, nil
}

func filterChars(rules []filterRule) string {
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(r.Value)
	}
	return b.String()
}

// ownTask returns the caller's task (s.mu held).
func (s *Service) ownTask(caller identity.Principal, arn string) (*task, error) {
	t, ok := s.st.tasks[arn]
	if !ok || t.account != caller.AccountID {
		return nil, notFound()
	}
	return t, nil
}

func (t *task) status() string {
	switch {
	case t.running != nil:
		return "RUNNING"
	case len(t.queue) > 0:
		return "QUEUED"
	}
	return "AVAILABLE"
}

func (s *Service) describeTask(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in arnIn
	if err := s.decodeAuthorized(ctx, caller, body, &in, "DescribeTask", func() string { return str(in.TaskArn) }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.ownTask(caller, str(in.TaskArn))
	if err != nil {
		return nil, err
	}
	o := t.opts
	out := describeTaskOut{TaskArn: t.arn, Name: t.name, Status: t.status(), SourceLocationArn: t.src,
		DestinationLocationArn: t.dst, CloudWatchLogGroupArn: t.logGroup, CreationTime: ep(t.created),
		Options: &o, Excludes: t.excludes, Includes: t.includes, TaskMode: t.mode, TaskReportConfig: t.report}
	if t.running != nil {
		out.CurrentTaskExecutionArn = t.running.arn
	}
	return out, nil
}

func (s *Service) listTasks(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in listIn
	if err := s.decodeAuthorized(ctx, caller, body, &in, "ListTasks", func() string { return "*" }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var all []taskEntry
	for _, t := range s.st.tasks {
		if t.account != caller.AccountID {
			continue
		}
		keep := true
		for _, f := range in.Filters {
			var ok bool
			var err error
			switch f.Name {
			case "LocationId":
				ok, err = matchString(t.src, f)
				if err == nil && !ok {
					ok, err = matchString(t.dst, f)
				}
			case "CreationTime":
				ok, err = matchTime(t.created, f)
			default:
				err = validation(f.Name, "filters.member.name", "Member must satisfy enum value set: [LocationId, CreationTime]")
			}
			if err != nil {
				s.mu.Unlock()
				return nil, err
			}
			keep = keep && ok
		}
		if keep {
			all = append(all, taskEntry{TaskArn: t.arn, Name: t.name, Status: t.status(), TaskMode: t.mode})
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].TaskArn < all[j].TaskArn })
	from, to, next, err := page(len(all), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		Tasks     []taskEntry `json:"Tasks"`
		NextToken *string     `json:"NextToken,omitempty"`
	}{all[from:to], next}, nil
}

// deleteTask serves DeleteTask (DataSync API Reference, DeleteTask: "Deletes a transfer
// task resource"; request TaskArn, empty response). The task's executions go with it.
// What DataSync does with an execution that is still running is not documented; the
// simulator ends it in ERROR (dsmigrate's teardown never deletes such a task).
func (s *Service) deleteTask(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in arnIn
	if err := s.decodeAuthorized(ctx, caller, body, &in, "DeleteTask", func() string { return str(in.TaskArn) }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.ownTask(caller, str(in.TaskArn))
	if err != nil {
		return nil, err
	}
	for _, e := range t.execOrder {
		e.finishLocked(s.now(), "ERROR", "TaskDeleted", "The task was deleted.")
		delete(s.st.execs, e.arn)
	}
	delete(s.st.tasks, t.arn)
	return struct{}{}, nil
}
