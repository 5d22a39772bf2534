package config

import "time"

// CallRecords are the call detail records: one per call that passed the
// trunk ACL, kept for the usage report and for "why did my caller get
// dropped".
type CallRecords struct {
	// Retention is how long records are kept, counted from the call's
	// start; older ones are pruned in small batches.
	Retention time.Duration `yaml:"retention"`
	// MaskCallingNumber shows the calling number in the API and the
	// commands with all but its last digits masked, as the live meeting
	// views do; the database keeps it whole (filters match it).
	MaskCallingNumber bool `yaml:"mask_calling_number"`
	// Queue bounds the records waiting to be written; when the database
	// is slower than calls end, the next ones are dropped (and counted)
	// rather than making a call wait.
	Queue int `yaml:"queue"`
}

// DefaultCallRecords: 90 days, masked, 4096 waiting.
func DefaultCallRecords() CallRecords {
	return CallRecords{Retention: 90 * 24 * time.Hour, MaskCallingNumber: true, Queue: 4096}
}

func (c *CallRecords) validate(p *problems) {
	if c.Retention < time.Hour || c.Retention > 10*366*24*time.Hour {
		p.add("call_records.retention", "%v is not between 1h and 87840h (10 years)", c.Retention)
	}
	if c.Queue < 16 || c.Queue > 1_000_000 {
		p.add("call_records.queue", "%d is not 16-1000000", c.Queue)
	}
}
