package calibrate

import (
	"reflect"

	"github.com/churnwatch/churnwatch/risk"
)

// namedRule is one signal's rule in a Model, by the id its config key and
// its Signal.ID use.
type namedRule struct {
	id   string
	rule *risk.Rule
}

// signalRules lists the rules of m.Signals in field order. It reads the
// struct's mapstructure tags rather than a list of its own, so a signal
// added to risk.Signals is calibrated without a change here.
func signalRules(m *risk.Model) []namedRule {
	v := reflect.ValueOf(&m.Signals).Elem()
	ruleType := reflect.TypeOf(risk.Rule{})
	var out []namedRule
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Type != ruleType {
			continue
		}
		id := f.Tag.Get("mapstructure")
		if id == "" || id == "-" {
			continue
		}
		out = append(out, namedRule{id: id, rule: v.Field(i).Addr().Interface().(*risk.Rule)})
	}
	return out
}

// signalIDs is the ids of signalRules, the feature columns of the fit.
func signalIDs(m risk.Model) []string {
	rules := signalRules(&m)
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.id
	}
	return ids
}

// yesNo reports whether r is a yes/no rule: points alone, no severity.
func yesNo(r risk.Rule) bool { return r.Threshold == 0 && r.Severe == 0 && r.SeverePoints == 0 }

// namedDimension is one dimension's settings in a Model, by its name.
type namedDimension struct {
	name string
	dim  *risk.Dimension
}

// dimensions lists m.Dimensions by their mapstructure tags (the names
// Signal.Dimension uses).
func dimensions(m *risk.Model) []namedDimension {
	v := reflect.ValueOf(&m.Dimensions).Elem()
	dimType := reflect.TypeOf(risk.Dimension{})
	var out []namedDimension
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Type != dimType {
			continue
		}
		if name := f.Tag.Get("mapstructure"); name != "" && name != "-" {
			out = append(out, namedDimension{name: name, dim: v.Field(i).Addr().Interface().(*risk.Dimension)})
		}
	}
	return out
}
