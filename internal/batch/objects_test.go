package batch

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// fakeS3 keeps what PutObject was given, keyed bucket/key.
type fakeS3 struct {
	putObject func(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

func (f fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return f.putObject(ctx, in, optFns...)
}

func storing(objects map[string]string) fakeS3 {
	return fakeS3{putObject: func(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
		b, err := io.ReadAll(in.Body)
		if err != nil {
			return nil, err
		}
		objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = string(b)
		return &s3.PutObjectOutput{}, nil
	}}
}

func TestWriteReport(t *testing.T) {
	rep := Summarize("b1", 50, [][]Entry{
		{{Result: Result{MigrationID: "a", Index: 0, Status: StatusSucceeded, FilesTransferred: 3, BytesTransferred: 300, DurationSeconds: 12.5}}},
		{{Result: Result{MigrationID: "b", Index: 1, Status: StatusFailed, Error: "TaskFailedError", Cause: "verify failed, \"quoted\"\nsecond line"}}},
	})
	objects := map[string]string{}
	objs, err := WriteReport(context.Background(), storing(objects), ReportLocation{Bucket: "reports-b", Prefix: "batches/"}, rep)
	if err != nil {
		t.Fatal(err)
	}
	want := ReportObjects{Bucket: "reports-b", JSONKey: "batches/b1/report.json", CSVKey: "batches/b1/report.csv"}
	if *objs != want {
		t.Errorf("got objects %+v, want %+v", *objs, want)
	}
	var got Report
	if err := json.Unmarshal([]byte(objects["reports-b/batches/b1/report.json"]), &got); err != nil {
		t.Fatalf("report.json: %v (got %q)", err, objects["reports-b/batches/b1/report.json"])
	}
	if got.BatchID != "b1" || got.Total != 2 || got.Failed != 1 || len(got.Migrations) != 2 {
		t.Errorf("report.json: got %+v, want batch b1 with 2 migrations, 1 failed", got)
	}
	rows, err := csv.NewReader(strings.NewReader(objects["reports-b/batches/b1/report.csv"])).ReadAll()
	if err != nil {
		t.Fatalf("report.csv: %v", err)
	}
	wantRows := [][]string{CSVHeader,
		{"a", "SUCCEEDED", "3", "300", "12.5", "", ""},
		{"b", "FAILED", "0", "0", "0", "TaskFailedError", "verify failed, \"quoted\"\nsecond line"}}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("report.csv: got %q, want %q", rows, wantRows)
	}
}

func TestWriteReportDenied(t *testing.T) {
	denied := fakeS3{putObject: func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	}}
	_, err := WriteReport(context.Background(), denied, ReportLocation{Bucket: "elsewhere"}, Summarize("b1", 0, nil))
	if err == nil || failure.Name(err) == "" || !strings.Contains(err.Error(), "s3:PutObject") {
		t.Errorf("got %v, want a failure type naming s3:PutObject", err)
	}
	var ve *failure.ValidationError
	if errors.As(err, &ve) {
		t.Errorf("got a ValidationError %v, want a permission or precondition failure", err)
	}
}

func TestHandleReportWritesObjects(t *testing.T) {
	objects := map[string]string{}
	h := &Handler{S3: storing(objects)}
	out, err := h.Handle(context.Background(), StepInput{Mode: "report", BatchID: "b2", Report: &ReportLocation{Bucket: "reports-b"},
		Lanes: [][]Entry{{{Result: Result{MigrationID: "a", Status: StatusSucceeded}}}}})
	r, ok := out.(Report)
	if err != nil || !ok || r.ReportObjects == nil || r.ReportObjects.CSVKey != "b2/report.csv" {
		t.Fatalf("got %+v, %v, want a report linking b2/report.csv", out, err)
	}
	if _, ok := objects["reports-b/b2/report.json"]; !ok || len(objects) != 2 {
		t.Errorf("got objects %v, want b2/report.json and b2/report.csv", objects)
	}
}
