// Package report is a stand-in for the few types and constants of GitLab's
// security report module that agentk's starboard_vulnerability module uses.
package report

type SeverityLevel int

const (
	SeverityLevelUndefined SeverityLevel = iota
	SeverityLevelInfo
	SeverityLevelUnknown
	SeverityLevelLow
	SeverityLevelMedium
	SeverityLevelHigh
	SeverityLevelCritical
)

type ConfidenceLevel int

const ConfidenceLevelUnknown ConfidenceLevel = 2

type IdentifierType string

const IdentifierTypeCVE IdentifierType = "cve"

type Vendor struct {
	Name string `json:"name"`
}

type ScannerDetails struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Vendor  Vendor `json:"vendor"`
}

type Identifier struct {
	Type  IdentifierType `json:"type"`
	Name  string         `json:"name"`
	Value string         `json:"value"`
	URL   string         `json:"url,omitempty"`
}

type Link struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
}

type Package struct {
	Name string `json:"name,omitempty"`
}

type Dependency struct {
	Package `json:"package,omitempty"`
	Version string `json:"version,omitempty"`
}

type KubernetesResource struct {
	Namespace     string `json:"namespace"`
	Kind          string `json:"kind"`
	Name          string `json:"name"`
	ContainerName string `json:"container_name"`
	AgentID       string `json:"agent_id"`
}

type Location struct {
	Dependency         *Dependency         `json:"dependency,omitempty"`
	OperatingSystem    string              `json:"operating_system,omitempty"`
	Image              string              `json:"image,omitempty"`
	KubernetesResource *KubernetesResource `json:"kubernetes_resource,omitempty"`
}

type Vulnerability struct {
	Name        string          `json:"name,omitempty"`
	Message     string          `json:"message,omitempty"`
	Description string          `json:"description,omitempty"`
	Solution    string          `json:"solution,omitempty"`
	Severity    SeverityLevel   `json:"severity,omitempty"`
	Confidence  ConfidenceLevel `json:"confidence,omitempty"`
	Location    Location        `json:"location"`
	Identifiers []Identifier    `json:"identifiers"`
	Links       []Link          `json:"links,omitempty"`
}
