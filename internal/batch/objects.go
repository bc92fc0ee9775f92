package batch

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
)

// S3API is what ReportBatch writes the report objects with.
type S3API interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// ReportObjects names the two objects a batch's report was written to.
type ReportObjects struct {
	Bucket  string `json:"bucket"`
	JSONKey string `json:"jsonKey"`
	CSVKey  string `json:"csvKey"`
}

// CSVHeader is the first row of report.csv; each other row is one migration.
var CSVHeader = []string{"migrationId", "status", "files", "bytes", "durationSeconds", "error", "cause"}

// CSV renders the report's migrations, one row each, in the order of the batch input.
func CSV(rep Report) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	rows := [][]string{CSVHeader}
	for _, m := range rep.Migrations {
		rows = append(rows, []string{m.MigrationID, m.Status, strconv.FormatInt(m.FilesTransferred, 10), strconv.FormatInt(m.BytesTransferred, 10),
			strconv.FormatFloat(m.DurationSeconds, 'f', -1, 64), m.Error, m.Cause})
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteReport puts <prefix><batchId>/report.json (the report as the batch returns it)
// and report.csv into the report location. A second run of the same batch overwrites
// both: they always describe the latest run.
func WriteReport(ctx context.Context, api S3API, loc ReportLocation, rep Report) (*ReportObjects, error) {
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	cs, err := CSV(rep)
	if err != nil {
		return nil, err
	}
	base := loc.Prefix + rep.BatchID + "/"
	objs := &ReportObjects{Bucket: loc.Bucket, JSONKey: base + "report.json", CSVKey: base + "report.csv"}
	for _, o := range []struct {
		key, contentType string
		body             []byte
	}{{objs.JSONKey, "application/json", js}, {objs.CSVKey, "text/csv", cs}} {
		_, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(o.key),
			Body: bytes.NewReader(o.body), ContentType: aws.String(o.contentType)})
		if err != nil {
			return nil, awserror.Classify(err, awserror.Call{Action: "s3:PutObject", Resource: "arn:aws:s3:::" + loc.Bucket + "/" + o.key}, awserror.Precondition)
		}
	}
	return objs, nil
}
