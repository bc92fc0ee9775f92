package server

import (
	"net/url"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// IAM operations on customer managed policies and on role permissions boundaries.
// PutRolePermissionsBoundary and DeleteRolePermissionsBoundary are served so that an
// attempt to change or remove a boundary is answered by the caller's policies (denied
// for a role that may not), as it would be on AWS, instead of failing as unknown.

type xmlPolicy struct {
	PolicyName                    string `xml:"PolicyName"`
	PolicyID                      string `xml:"PolicyId"`
	Arn                           string `xml:"Arn"`
	Path                          string `xml:"Path"`
	DefaultVersionID              string `xml:"DefaultVersionId"`
	AttachmentCount               int    `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int    `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool   `xml:"IsAttachable"`
	Description                   string `xml:"Description,omitempty"`
	CreateDate                    string `xml:"CreateDate"`
	UpdateDate                    string `xml:"UpdateDate"`
}

func toXMLPolicy(p store.ManagedPolicy) xmlPolicy {
	return xmlPolicy{PolicyName: p.Name, PolicyID: p.PolicyID, Arn: p.Arn, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
		PermissionsBoundaryUsageCount: p.BoundaryUsageCount, IsAttachable: true, Description: p.Description,
		CreateDate: isoTime(p.CreateDate), UpdateDate: isoTime(p.UpdateDate)}
}

type xmlPolicyVersion struct {
	Document         string `xml:"Document"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

func toXMLPolicyVersion(v store.PolicyVersion) xmlPolicyVersion {
	return xmlPolicyVersion{Document: urlEncodePolicy(v.Document), VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: isoTime(v.CreateDate)}
}

// xmlBoundary is a role's PermissionsBoundary element. IAM answers the type "Policy"
// (awsdocs/iam-user-guide issue #82; the AWS CLI's get-user example shows the same),
// although the API model lists the enum value "PermissionsBoundaryPolicy".
type xmlBoundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

func roleBoundary(r identity.Role) *xmlBoundary {
	if r.PermissionsBoundaryArn == "" {
		return nil
	}
	return &xmlBoundary{PermissionsBoundaryType: "Policy", PermissionsBoundaryArn: r.PermissionsBoundaryArn}
}

// iamPolicyAction serves the managed-policy and boundary operations; handled is false
// for any other action.
func (s *Server) iamPolicyAction(c caller, action string, f url.Values) (result any, handled bool, err error) {
	acct := c.principal.AccountID
	policyArn := f.Get("PolicyArn")
	authorizePolicy := func(arn string) error { return s.store.Authorize(c.principal, "iam:"+action, arn, identity.Context{}) }
	switch action {
	case "CreatePolicy":
		if err := required(f, "PolicyName", "PolicyDocument"); err != nil {
			return nil, true, err
		}
		path := f.Get("Path")
		if path == "" {
			path = "/"
		}
		if err := authorizePolicy("arn:aws:iam::" + acct + ":policy" + path + f.Get("PolicyName")); err != nil {
			return nil, true, err
		}
		p, err := s.store.CreatePolicy(store.CreatePolicyInput{AccountID: acct, Name: f.Get("PolicyName"), Path: f.Get("Path"),
			Document: f.Get("PolicyDocument"), Description: f.Get("Description")})
		if err != nil {
			return nil, true, err
		}
		return &struct {
			Policy xmlPolicy `xml:"Policy"`
		}{toXMLPolicy(p)}, true, nil
	case "GetPolicy":
		if err := required(f, "PolicyArn"); err != nil {
			return nil, true, err
		}
		if err := authorizePolicy(policyArn); err != nil {
			return nil, true, err
		}
		p, err := s.store.GetPolicy(policyArn)
		if err != nil {
			return nil, true, err
		}
		return &struct {
			Policy xmlPolicy `xml:"Policy"`
		}{toXMLPolicy(p)}, true, nil
	case "GetPolicyVersion", "CreatePolicyVersion":
		names := []string{"PolicyArn", "VersionId"}
		if action == "CreatePolicyVersion" {
			names = []string{"PolicyArn", "PolicyDocument"}
		}
		if err := required(f, names...); err != nil {
			return nil, true, err
		}
		if err := authorizePolicy(policyArn); err != nil {
			return nil, true, err
		}
		var v store.PolicyVersion
		if action == "GetPolicyVersion" {
			v, err = s.store.GetPolicyVersion(policyArn, f.Get("VersionId"))
		} else {
			v, err = s.store.CreatePolicyVersion(policyArn, f.Get("PolicyDocument"), f.Get("SetAsDefault") == "true")
		}
		if err != nil {
			return nil, true, err
		}
		return &struct {
			PolicyVersion xmlPolicyVersion `xml:"PolicyVersion"`
		}{toXMLPolicyVersion(v)}, true, nil
	case "PutRolePermissionsBoundary":
		if err := required(f, "RoleName", "PermissionsBoundary"); err != nil {
			return nil, true, err
		}
		// The boundary being set is the request's iam:PermissionsBoundary.
		ctx := identity.Context{"iam:PermissionsBoundary": {f.Get("PermissionsBoundary")}}
		roleName := f.Get("RoleName")
		if err := s.iamAuthorize(c, action, roleName, ctx); err != nil {
			return nil, true, err
		}
		return noResult, true, s.store.PutRolePermissionsBoundary(acct, roleName, f.Get("PermissionsBoundary"))
	}
	return nil, false, nil
}
