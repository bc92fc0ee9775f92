package policy

import "github.com/dsmigrate/dsmigrate/internal/naming"

// DataSyncServicePrincipal is the service that assumes the DataSync roles.
const DataSyncServicePrincipal = "datasync.amazonaws.com"

// The S3 actions of a DataSync bucket access role. AWS DataSync User Guide, "Providing
// DataSync access to S3 buckets"
// (https://docs.aws.amazon.com/datasync/latest/userguide/create-s3-location.html#create-s3-location-access)
// gives one role policy for a bucket DataSync uses as a source or as a destination: on the
// bucket s3:GetBucketLocation, s3:ListBucket and s3:ListBucketMultipartUploads; on its objects
// s3:AbortMultipartUpload, s3:DeleteObject, s3:GetObject, s3:GetObjectTagging,
// s3:GetObjectVersion, s3:GetObjectVersionTagging, s3:ListMultipartUploadParts, s3:PutObject
// and s3:PutObjectTagging.
var (
	// SourceBucketActions and SourceObjectActions are the read subset of that policy: all
	// DataSync needs to read a source location, nothing that writes or deletes. A versioned
	// source bucket needs s3:GetObjectVersion and s3:GetObjectVersionTagging: DataSync reads
	// object tags by version, and S3's GetObjectTagging needs s3:GetObjectVersionTagging for
	// a version (Amazon S3 API Reference, GetObjectTagging; without it a transfer from a
	// versioned bucket fails with a 403 on GetObjectTagging, as AWS DataSync's
	// troubleshooting page describes). The two multipart listings are read-only (access
	// level List) and part of the documented policy.
	SourceBucketActions = []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}
	SourceObjectActions = []string{"s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectVersion",
		"s3:GetObjectVersionTagging", "s3:ListMultipartUploadParts"}

	// DestinationBucketActions and DestinationObjectActions are the write set the field
	// report grants the role that writes the destination bucket.
	DestinationBucketActions = []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}
	DestinationObjectActions = []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject",
		"s3:ListMultipartUploadParts", "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:PutObject"}
)

// BucketArn is the ARN of an S3 bucket.
func BucketArn(partition, bucket string) string { return "arn:" + partition + ":s3:::" + bucket }

// ObjectsArn is the ARN pattern of the objects under prefix ("" = every object).
func ObjectsArn(partition, bucket, prefix string) string {
	return BucketArn(partition, bucket) + "/" + prefix + "*"
}

// TrustPolicy lets DataSync assume a role, but only on behalf of DataSync resources of
// accountID in region (confused-deputy protection with aws:SourceAccount and aws:SourceArn).
// It names a service principal only, never a role: IAM refuses a trust policy naming a
// role it has not propagated yet ("Invalid principal in policy"), which a role created
// moments before would be, so createroles never meets that refusal. The one place a
// role dsmigrate just created is named is the source bucket policy, where S3 answers the
// same and putbucketpolicy returns a NotReadyError that the state machine retries.
func TrustPolicy(accountID, region, partition string) Document {
	return Document{
		Version: Version,
		Statement: Statements{{
			Effect:    "Allow",
			Principal: &Principal{Service: StringList{DataSyncServicePrincipal}},
			Action:    StringList{"sts:AssumeRole"},
			Condition: Condition{
				"StringEquals": {"aws:SourceAccount": {accountID}},
				"ArnLike":      {"aws:SourceArn": {"arn:" + partition + ":datasync:" + region + ":" + accountID + ":*"}},
			},
		}},
	}
}

// SourceRolePolicy is the inline policy of the transfer role: the read actions on the
// source bucket and on its objects under prefix ("" = every object).
func SourceRolePolicy(partition, bucket, prefix string) Document {
	return Document{
		Version: Version,
		Statement: Statements{
			{Sid: "ReadSourceBucket", Effect: "Allow", Action: StringList(SourceBucketActions), Resource: StringList{BucketArn(partition, bucket)}},
			{Sid: "ReadSourceObjects", Effect: "Allow", Action: StringList(SourceObjectActions), Resource: StringList{ObjectsArn(partition, bucket, prefix)}},
		},
	}
}

// DestinationRolePolicy is the inline policy of the config role: the field report's two
// statements on the destination bucket and on its objects under prefix.
func DestinationRolePolicy(partition, bucket, prefix string) Document {
	return Document{
		Version: Version,
		Statement: Statements{
			{Sid: "WriteDestinationBucket", Effect: "Allow", Action: StringList(DestinationBucketActions), Resource: StringList{BucketArn(partition, bucket)}},
			{Sid: "WriteDestinationObjects", Effect: "Allow", Action: StringList(DestinationObjectActions), Resource: StringList{ObjectsArn(partition, bucket, prefix)}},
		},
	}
}

// SourceBucketStatements are our statements in the source bucket policy, in the order of
// sids.All(): s3:ListBucket for the principal that calls CreateLocationS3, then the
// bucket-level and the object-level read grants to the transfer role. The config role is
// not named: it writes the destination in account B and never reaches account A.
//
// An earlier version granted both roles the destination's write set under the same Sids;
// Merge and RevokeOurs recognize such statements when given naming.EarlierRoleArns, and
// replace or remove them.
func SourceBucketStatements(partition string, sids naming.Sids, bucket, prefix, transferRoleArn, locationsCallerArn string) []Statement {
	return []Statement{
		{
			Sid:       sids.CreateLocation,
			Effect:    "Allow",
			Principal: &Principal{AWS: StringList{locationsCallerArn}},
			Action:    StringList{"s3:ListBucket"},
			Resource:  StringList{BucketArn(partition, bucket)},
		},
		{
			Sid:       sids.BucketAccess,
			Effect:    "Allow",
			Principal: &Principal{AWS: StringList{transferRoleArn}},
			Action:    StringList(SourceBucketActions),
			Resource:  StringList{BucketArn(partition, bucket)},
		},
		{
			Sid:       sids.ObjectAccess,
			Effect:    "Allow",
			Principal: &Principal{AWS: StringList{transferRoleArn}},
			Action:    StringList(SourceObjectActions),
			Resource:  StringList{ObjectsArn(partition, bucket, prefix)},
		},
	}
}

// S3ViaService is the kms:ViaService value of S3's requests to KMS in region ("The
// kms:ViaService condition key limits use of a KMS key to requests from specified AWS
// services", AWS KMS Developer Guide, kms:ViaService; S3's value is
// s3.<region>.amazonaws.com).
func S3ViaService(region string) string { return "s3." + region + ".amazonaws.com" }

// SourceKMSStatement lets the transfer role decrypt with the source keys, only through
// S3 in the source bucket's region. Cross-account use of a key needs an IAM policy in the
// user's account as well as the key's permission (AWS KMS Developer Guide, "Allowing
// users in other accounts to use a KMS key"; here the key's permission is the grant), and
// S3 needs kms:Decrypt to read an SSE-KMS object (S3 User Guide, "Using server-side
// encryption with AWS KMS keys").
func SourceKMSStatement(region string, keyArns []string) Statement {
	return Statement{Sid: "DecryptSourceObjects", Effect: "Allow", Action: StringList{"kms:Decrypt"}, Resource: StringList(keyArns),
		Condition: Condition{"StringEquals": {"kms:ViaService": {S3ViaService(region)}}}}
}

// DestinationKMSActions are what writing an SSE-KMS object through S3 needs: PutObject
// needs kms:GenerateDataKey, and a multipart upload kms:Decrypt too (S3 User Guide,
// "Using server-side encryption with AWS KMS keys (SSE-KMS)" and "Multipart upload API
// and permissions"); kms:Encrypt is the rest of the set the issue's operators expect.
var DestinationKMSActions = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}

// DestinationKMSStatement lets the config role use the destination bucket's key, only
// through S3 in its region.
func DestinationKMSStatement(region, keyArn string) Statement {
	return Statement{Sid: "EncryptDestinationObjects", Effect: "Allow", Action: StringList(DestinationKMSActions), Resource: StringList{keyArn},
		Condition: Condition{"StringEquals": {"kms:ViaService": {S3ViaService(region)}}}}
}

// TaskReportStatement lets the config role, which DataSync also assumes to upload the
// migration's task reports (TaskReportConfig BucketAccessRoleArn), put objects into the
// report folders of bucket and nowhere else. DataSync needs s3:PutObject on the report
// prefix to upload a task report (AWS DataSync User Guide, "Monitoring your transfers with
// task reports", allowing DataSync to upload a task report to an S3 bucket).
func TaskReportStatement(partition, bucket string, folders []string) Statement {
	resources := make(StringList, len(folders))
	for i, f := range folders {
		resources[i] = ObjectsArn(partition, bucket, f)
	}
	return Statement{Sid: "WriteTaskReports", Effect: "Allow", Action: StringList{"s3:PutObject"}, Resource: resources}
}
