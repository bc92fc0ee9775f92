package policy

import "github.com/dsmigrate/dsmigrate/internal/naming"

// DataSyncServicePrincipal is the service that assumes the DataSync roles.
const DataSyncServicePrincipal = "datasync.amazonaws.com"

// Actions the seed procedure grants on a bucket and on its objects.
var (
	BucketActions = []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}
	ObjectActions = []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject",
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

// RolePolicy is the inline policy of a DataSync role: exactly the two statements of the
// seed procedure, bucket-level actions on the bucket ARN and object-level actions on
// bucket/* (bucket/<prefix>* when prefix is given).
func RolePolicy(partition, bucket, prefix string) Document {
	return Document{
		Version: Version,
		Statement: Statements{
			{Effect: "Allow", Action: StringList(BucketActions), Resource: StringList{BucketArn(partition, bucket)}},
			{Effect: "Allow", Action: StringList(ObjectActions), Resource: StringList{ObjectsArn(partition, bucket, prefix)}},
		},
	}
}

// SourceBucketStatements are our statements in the source bucket policy, in the order of
// sids.All(): s3:ListBucket for the principal that calls CreateLocationS3, then the
// bucket-level and the object-level grants to both DataSync roles.
func SourceBucketStatements(partition string, sids naming.Sids, bucket, prefix, transferRoleArn, configRoleArn, locationsCallerArn string) []Statement {
	roles := StringList{transferRoleArn, configRoleArn}
	if transferRoleArn == configRoleArn {
		roles = StringList{transferRoleArn}
	}
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
			Principal: &Principal{AWS: roles},
			Action:    StringList(BucketActions),
			Resource:  StringList{BucketArn(partition, bucket)},
		},
		{
			Sid:       sids.ObjectAccess,
			Effect:    "Allow",
			Principal: &Principal{AWS: slicesClone(roles)},
			Action:    StringList(ObjectActions),
			Resource:  StringList{ObjectsArn(partition, bucket, prefix)},
		},
	}
}

func slicesClone(l StringList) StringList { return append(StringList(nil), l...) }
