package policy

import (
	"slices"
	"testing"
)

// DeletedPrincipals finds the unique ids of deleted users and roles in Principal and in
// NotPrincipal, with their statements' Sids, and passes over statements that have only one
// of the two and principals that are ARNs or accounts.
func TestDeletedPrincipals(t *testing.T) {
	d, err := Parse(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Reader","Effect":"Allow","Principal":{"AWS":["AROAEXAMPLEROLEID0001","arn:aws:iam::111111111111:role/r","111111111111"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
		{"Sid":"Guard","Effect":"Deny","NotPrincipal":{"AWS":"AIDAEXAMPLEUSERID0002"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []DeletedPrincipal{{Sid: "Reader", ID: "AROAEXAMPLEROLEID0001"}, {Sid: "Guard", ID: "AIDAEXAMPLEUSERID0002"}}
	if got := d.DeletedPrincipals(); !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
