package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

// DemoReport is what `dsmigrate local demo` measured.
type DemoReport struct {
	Startup        time.Duration
	Seeding        time.Duration
	Objects        int
	Bytes          int64
	First          *Result
	Verify         Verification
	VerifyTime     time.Duration
	Second         *Result
	SecondFiles    int64
	Unchanged      bool
	PolicyRestored bool
	Created        map[string][]string // by the first run
	Changed        map[string][]string // by the second run (executions only, when all is well)
	Functions      map[string]FunctionTiming
	Total          time.Duration
}

// Demo seeds a source bucket in A and an empty destination in B, runs one migration,
// verifies every object byte for byte, runs the same request again and checks nothing
// new was created and nothing copied. It writes a report to out and progress to opts.Progress.
func Demo(ctx context.Context, opts Options, out io.Writer) (_ *DemoReport, err error) {
	t0 := time.Now()
	rep := &DemoReport{}
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }

	say("dsmigrate local demo: a cross-account migration between two simulated AWS accounts")
	env, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			env.KeepLog()
			err = fmt.Errorf("%w (log: %s)", err, env.LogPath)
		}
		env.Close()
	}()
	rep.Startup = env.StartupTime
	say("  environment ready in %s: simulator %s, %d functions under the Lambda RIE, roles from %s", round(env.StartupTime), env.Sim.Addr, len(env.Functions), env.Opts.CloudAssembly)

	src, dst, err := env.DefaultBuckets()
	if err != nil {
		return nil, err
	}
	t := time.Now()
	objs := DemoSamples.Objects()
	if err := CreateBucket(ctx, env.Source.S3, src, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		return nil, err
	}
	if err := CreateBucket(ctx, env.Destination.S3, dst, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		return nil, err
	}
	if err := Upload(ctx, env.Source.S3, src, objs); err != nil {
		return nil, err
	}
	rep.Seeding, rep.Objects, rep.Bytes = time.Since(t), len(objs), TotalBytes(objs)
	say("  source      s3://%s in account %s (ACLs disabled): %d objects, %s in nested prefixes, seed %d (uploaded in %s)",
		src, env.Source.AccountID, len(objs), execution.FormatBytes(rep.Bytes), DemoSamples.Seed, round(rep.Seeding))
	say("  destination s3://%s in account %s: empty", dst, env.Destination.AccountID)

	req := env.NewRequest("demo", src, "", dst, "")
	body, _ := json.Marshal(req)

	before, err := env.Sim.State(ctx)
	if err != nil {
		return nil, err
	}
	say("\n1st execution")
	if rep.First, err = env.Run(ctx, body, "demo-first"); err != nil {
		return nil, err
	}
	if !rep.First.Succeeded {
		return rep, fmt.Errorf("the first execution failed: %s: %s", rep.First.Error, rep.First.Cause)
	}
	afterFirst, err := env.Sim.State(ctx)
	if err != nil {
		return nil, err
	}
	rep.Created = InventoryOf(before).Diff(InventoryOf(afterFirst))
	files, bytes := transferred(rep.First.Output)
	say("  succeeded in %s (%s with the driver's start-up): %d files, %s copied; %d state transitions; first byte copied %s after the execution started",
		round(rep.First.Duration), round(rep.First.Wall), files, execution.FormatBytes(bytes), rep.First.Transitions(), round(rep.First.FirstByte))
	say("  created in account %s: %s", env.Destination.AccountID, createdSummary(rep.Created))

	t = time.Now()
	if rep.Verify, err = Verify(ctx, env.Source.S3, env.Destination.S3, src, "", dst, ""); err != nil {
		return nil, err
	}
	rep.VerifyTime = time.Since(t)
	if !rep.Verify.OK() {
		return rep, fmt.Errorf("verification failed: %d missing, %d different (first: %v %v)", len(rep.Verify.Missing), len(rep.Verify.Mismatched), head(rep.Verify.Missing), head(rep.Verify.Mismatched))
	}
	say("  verified %d/%d objects (%s) byte for byte: SHA-256 of GET source (as A) = GET destination (as B), in %s",
		rep.Verify.Objects, len(objs), execution.FormatBytes(rep.Verify.Bytes), round(rep.VerifyTime))

	say("\n2nd execution, same request")
	if rep.Second, err = env.Run(ctx, body, "demo-second"); err != nil {
		return nil, err
	}
	if !rep.Second.Succeeded {
		return rep, fmt.Errorf("the second execution failed: %s: %s", rep.Second.Error, rep.Second.Cause)
	}
	afterSecond, err := env.Sim.State(ctx)
	if err != nil {
		return nil, err
	}
	a, b := InventoryOf(afterFirst), InventoryOf(afterSecond)
	rep.Changed = a.Diff(b)
	rep.SecondFiles, _ = transferred(rep.Second.Output)
	rep.Unchanged = len(rep.Changed["roles"]) == 0 && len(rep.Changed["locations"]) == 0 && len(rep.Changed["tasks"]) == 0 && len(rep.Changed["buckets"]) == 0
	say("  succeeded in %s (%s with the driver's start-up): %d files copied; %d state transitions", round(rep.Second.Duration), round(rep.Second.Wall), rep.SecondFiles, rep.Second.Transitions())
	if rep.Unchanged {
		say("  nothing new was created: %s are the same before and after; executions %+d", b.Summary("roles", "locations", "tasks"), b.Count("executions")-a.Count("executions"))
	} else {
		say("  CHANGED by the second run: %v", rep.Changed)
	}
	origPolicy := InventoryOf(before).Policies[src]
	rep.PolicyRestored = b.Policies[src] == origPolicy && a.Policies[src] == origPolicy
	if rep.PolicyRestored {
		say("  source bucket policy after each execution: %s, as before the first", describePolicy(origPolicy))
	} else {
		say("  source bucket policy NOT restored: before %s, after the 1st %s, after the 2nd %s", describePolicy(origPolicy), describePolicy(a.Policies[src]), describePolicy(b.Policies[src]))
	}

	rep.Functions = map[string]FunctionTiming{}
	say("\nfunctions under the Lambda RIE (RIE's Init/Duration; first = cold invoke as the driver saw it):")
	for _, f := range Functions {
		ft := TimingOf(env.Instances[f])
		rep.Functions[f] = ft
		say("  %-16s %s", f, ft)
	}
	say("\nstate transitions: 1st %d, 2nd %d; path of the 1st: %s", rep.First.Transitions(), rep.Second.Transitions(), compressPath(rep.First.StatesEntered()))
	rep.Total = time.Since(t0)
	say("total %s", round(rep.Total))
	if rep.SecondFiles != 0 || !rep.Unchanged || !rep.PolicyRestored {
		return rep, fmt.Errorf("the second execution was not a no-op: %d files copied, changes %v, policy restored %v", rep.SecondFiles, rep.Changed, rep.PolicyRestored)
	}
	return rep, nil
}

// transferred reads the files and bytes from an execution output.
func transferred(out json.RawMessage) (files, bytes int64) {
	var o struct {
		Transfer struct {
			FilesTransferred int64 `json:"filesTransferred"`
			BytesTransferred int64 `json:"bytesTransferred"`
		} `json:"transfer"`
	}
	json.Unmarshal(out, &o)
	return o.Transfer.FilesTransferred, o.Transfer.BytesTransferred
}

// FunctionTiming sums up a function's invocations under the RIE.
type FunctionTiming struct {
	Invokes   int
	Init      time.Duration // RIE "Init Duration" of the first invoke
	InvokeAvg time.Duration // RIE "Duration", average
	InvokeMax time.Duration
	FirstWall time.Duration // the first invoke end to end (process start, init, handler)
	WarmWall  time.Duration // later invokes end to end, average
}

// TimingOf reads the RIE reports and the proxy's measurements of a function's instances.
func TimingOf(fps []*FunctionProcess) FunctionTiming {
	var ft FunctionTiming
	var sum, warm time.Duration
	var nWarm int
	for _, fp := range fps {
		for _, r := range fp.Reports() {
			ft.Invokes++
			ft.Init = max(ft.Init, r.Init)
			sum += r.Duration
			ft.InvokeMax = max(ft.InvokeMax, r.Duration)
		}
		for i, w := range fp.Walls() {
			if i == 0 {
				ft.FirstWall = max(ft.FirstWall, w)
				continue
			}
			warm += w
			nWarm++
		}
	}
	if ft.Invokes > 0 {
		ft.InvokeAvg = sum / time.Duration(ft.Invokes)
	}
	if nWarm > 0 {
		ft.WarmWall = warm / time.Duration(nWarm)
	}
	return ft
}

func (ft FunctionTiming) String() string {
	if ft.Invokes == 0 {
		return "not invoked"
	}
	return fmt.Sprintf("%2d invokes  init %5.1f ms  invoke avg %6.1f ms (max %6.1f)  first %6.1f ms  warm avg %6.1f ms",
		ft.Invokes, msf(ft.Init), msf(ft.InvokeAvg), msf(ft.InvokeMax), msf(ft.FirstWall), msf(ft.WarmWall))
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// compressPath writes repeated loop states once with a count: "A → B → (Poll → Wait)×5 → C".
func compressPath(states []string) string {
	counts := map[string]int{}
	for _, s := range states {
		counts[s]++
	}
	var parts []string
	seen := map[string]bool{}
	for _, s := range states {
		if seen[s] {
			continue
		}
		seen[s] = true
		if counts[s] > 1 {
			parts = append(parts, fmt.Sprintf("%s×%d", s, counts[s]))
		} else {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " → ")
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

func head(s []string) []string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}

func describePolicy(p string) string {
	if p == "" {
		return "none"
	}
	return fmt.Sprintf("%d bytes", len(p))
}

// createdSummary is "2 roles (…), 2 locations, 1 task, 1 execution" from an inventory diff.
func createdSummary(d map[string][]string) string {
	var parts []string
	for _, kind := range []string{"roles", "locations", "tasks", "executions"} {
		var added []string
		for _, id := range d[kind] {
			if name, ok := strings.CutPrefix(id, "+"); ok {
				added = append(added, name)
			}
		}
		if len(added) == 0 {
			continue
		}
		part := fmt.Sprintf("%d %s", len(added), kind)
		if kind == "roles" {
			var names []string
			for _, a := range added {
				names = append(names, a[strings.LastIndex(a, "/")+1:])
			}
			part += " (" + strings.Join(names, ", ") + ")"
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}
