package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Config is the simulator's configuration file (see docs/develop.md, "The simulator").
type Config struct {
	Region                  string          `json:"region"`
	PropagationDelaySeconds float64         `json:"propagationDelaySeconds"`
	TimeScale               *float64        `json:"timeScale,omitempty"`
	TransferBytesPerSecond  int64           `json:"transferBytesPerSecond,omitempty"`
	Accounts                []AccountConfig `json:"accounts"`
	// Faults are injected at start-up, as if posted to /_sim/faults.
	Faults []FaultConfig `json:"faults,omitempty"`
}

// AccountConfig is one AWS account.
type AccountConfig struct {
	ID    string       `json:"id"`
	Name  string       `json:"name"`
	Users []UserConfig `json:"users"`
}

// UserConfig is an IAM user with one access key and identity-based policies.
type UserConfig struct {
	Name            string            `json:"name"`
	AccessKeyID     string            `json:"accessKeyId"`
	SecretAccessKey string            `json:"secretAccessKey"`
	Policies        []json.RawMessage `json:"policies"`
}

// FaultConfig makes the next Count calls of Service/Operation fail.
type FaultConfig struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Count     int    `json:"count"`
	Kind      string `json:"kind"` // "throttle" | "500"
}

// LoadConfig reads and validates a config file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(b)
}

// ParseConfig decodes and validates a config document (unknown fields are errors).
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	var problems []string
	seenAcct := map[string]bool{}
	seenKey := map[string]bool{}
	for i, a := range c.Accounts {
		if len(a.ID) != 12 || strings.Trim(a.ID, "0123456789") != "" {
			problems = append(problems, fmt.Sprintf("accounts[%d].id: must be 12 digits", i))
		}
		if seenAcct[a.ID] {
			problems = append(problems, fmt.Sprintf("accounts[%d].id: duplicate %s", i, a.ID))
		}
		seenAcct[a.ID] = true
		for j, u := range a.Users {
			if u.Name == "" || u.AccessKeyID == "" || u.SecretAccessKey == "" {
				problems = append(problems, fmt.Sprintf("accounts[%d].users[%d]: name, accessKeyId and secretAccessKey are required", i, j))
			}
			if seenKey[u.AccessKeyID] {
				problems = append(problems, fmt.Sprintf("accounts[%d].users[%d].accessKeyId: duplicate", i, j))
			}
			seenKey[u.AccessKeyID] = true
		}
	}
	if len(problems) > 0 {
		return nil, errors.New("config: " + strings.Join(problems, "; "))
	}
	return &c, nil
}
