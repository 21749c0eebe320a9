package draft

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// schema is the subset of JSON Schema the draft schema uses: type,
// properties, required, additionalProperties, items, minItems, maxItems,
// minimum and maximum. A server in JSON mode promises JSON, not the
// schema, so every answer is checked against it here.
type schema struct {
	Type                 string             `json:"type"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	AdditionalProperties *bool              `json:"additionalProperties"`
	Items                *schema            `json:"items"`
	MinItems             *int               `json:"minItems"`
	MaxItems             *int               `json:"maxItems"`
	Minimum              *float64           `json:"minimum"`
	Maximum              *float64           `json:"maximum"`
}

func parseSchema(b []byte) (*schema, error) {
	var s schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("draft: parse schema: %w", err)
	}
	return &s, nil
}

// check validates a decoded JSON value (from json.Unmarshal into any) and
// returns one problem per violation, each naming its path.
func (s *schema) check(path string, v any) []string {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, path+": "+fmt.Sprintf(format, args...))
	}
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			add("want an object, got %s", jsonType(v))
			return problems
		}
		for _, name := range s.Required {
			if _, ok := obj[name]; !ok {
				add("missing required field %q", name)
			}
		}
		names := make([]string, 0, len(obj))
		for name := range obj {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			sub, ok := s.Properties[name]
			if !ok {
				if s.AdditionalProperties != nil && !*s.AdditionalProperties {
					add("unexpected field %q", name)
				}
				continue
			}
			problems = append(problems, sub.check(path+"."+name, obj[name])...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			add("want an array, got %s", jsonType(v))
			return problems
		}
		if s.MinItems != nil && len(arr) < *s.MinItems {
			add("has %d items, want at least %d", len(arr), *s.MinItems)
		}
		if s.MaxItems != nil && len(arr) > *s.MaxItems {
			add("has %d items, want at most %d", len(arr), *s.MaxItems)
		}
		if s.Items != nil {
			for i, item := range arr {
				problems = append(problems, s.Items.check(fmt.Sprintf("%s[%d]", path, i), item)...)
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			add("want a string, got %s", jsonType(v))
		}
	case "integer", "number":
		f, ok := v.(float64)
		if !ok {
			add("want a %s, got %s", s.Type, jsonType(v))
			return problems
		}
		if s.Type == "integer" && f != math.Trunc(f) {
			add("want an integer, got %v", f)
		}
		if s.Minimum != nil && f < *s.Minimum {
			add("%v is below the minimum %v", f, *s.Minimum)
		}
		if s.Maximum != nil && f > *s.Maximum {
			add("%v is above the maximum %v", f, *s.Maximum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			add("want a boolean, got %s", jsonType(v))
		}
	}
	return problems
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}
