package request

import (
	"regexp"
	"slices"
)

//go:generate go run ./genregions

// sdkPartition is one AWS partition as the AWS SDK for Go v2 describes it.
type sdkPartition struct {
	ID      string
	Regex   string // pattern of the partition's region names
	Regions []string
}

var sdkRegexes = func() []*regexp.Regexp {
	res := make([]*regexp.Regexp, len(sdkPartitions))
	for i, p := range sdkPartitions {
		res[i] = regexp.MustCompile(p.Regex)
	}
	return res
}()

// KnownRegion reports whether region is a region of some partition in the endpoint
// metadata of the AWS SDK this dsmigrate was built with.
func KnownRegion(region string) bool {
	for _, p := range sdkPartitions {
		if slices.Contains(p.Regions, region) {
			return true
		}
	}
	return false
}

// Partition returns the partition of region: the one whose region list holds it, else the
// first whose region name pattern matches it (the SDK's own rule for regions newer than
// its list), else aws.
func Partition(region string) string {
	for _, p := range sdkPartitions {
		if slices.Contains(p.Regions, region) {
			return p.ID
		}
	}
	for i, re := range sdkRegexes {
		if re.MatchString(region) {
			return sdkPartitions[i].ID
		}
	}
	return "aws"
}
