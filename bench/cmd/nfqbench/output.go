package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// writeResults writes NAME.json (the raw samples), NAME.md and NAME.png.
func writeResults(r *Run, dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	base := filepath.Join(dir, name)
	if err := os.WriteFile(base+".json", append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return writeReport(r, base)
}

func writeReport(r *Run, base string) error {
	s := summarize(r)
	var md, png bytes.Buffer
	writeMarkdown(&md, r, s)
	if err := writeChart(&png, r, s); err != nil {
		return err
	}
	if err := os.WriteFile(base+".md", md.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(base+".png", png.Bytes(), 0o644)
}

// rewriteReport renders the table and chart again from a saved JSON file.
func rewriteReport(jsonPath string) error {
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		return err
	}
	var r Run
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	return writeReport(&r, strings.TrimSuffix(jsonPath, ".json"))
}
