package request

import "github.com/dsmigrate/dsmigrate/internal/failure"

// Deployment settings that decide which requests a deployment accepts (cdk.json context,
// passed to the functions that enforce them as Lambda environment variables). Both are off
// by default: whoever may start a migration must not be able to delete destination
// objects or leave access to the source behind unless the operators chose to allow it.
const (
	SettingAllowRemove        = "dsmigrate:allowRemove"
	SettingAllowStandingGrant = "dsmigrate:allowStandingGrant"
)

// Deployment is what a deployment allows beyond a plain copy.
type Deployment struct {
	// AllowRemove permits task.preserveDeletedFiles REMOVE, which deletes destination
	// objects that are not in the source.
	AllowRemove bool
	// AllowStandingGrant permits cleanup.revokeBucketPolicy false, which leaves the
	// DataSync roles' access to the source bucket in place after the migration.
	AllowStandingGrant bool
}

// CheckDeployment refuses, in a *failure.ValidationError naming the field and the setting
// that would allow it, the options the deployment does not allow. r must be normalized.
func (r *Request) CheckDeployment(d Deployment) error {
	v := &failure.ValidationError{}
	if r.Task.PreserveDeletedFiles == "REMOVE" && !d.AllowRemove {
		v.Add("task.preserveDeletedFiles", "REMOVE deletes destination objects that are not in the source, and this deployment does not allow it (deployment setting %s is false); use PRESERVE, or ask the operators to set %s to true and redeploy", SettingAllowRemove, SettingAllowRemove)
	}
	if !r.Revoke() && !d.AllowStandingGrant {
		v.Add("cleanup.revokeBucketPolicy", "false would leave the DataSync roles' access to the source bucket in place after the migration, and this deployment does not allow it (deployment setting %s is false); remove the field or set it to true, or ask the operators to set %s to true and redeploy", SettingAllowStandingGrant, SettingAllowStandingGrant)
	}
	return v.OrNil()
}
