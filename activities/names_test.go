package activities

import (
	"reflect"
	"slices"
	"testing"

	"github.com/churnwatch/churnwatch/workflows"
)

// TestActivityNames: registering a struct registers each of its exported
// methods under the method's name, which is what workflows call and what
// recorded histories and running workflows hold. Each concern's struct
// must register exactly its names, and no name twice across them (the
// worker registers them all on one queue).
func TestActivityNames(t *testing.T) {
	want := map[reflect.Type][]string{
		reflect.TypeFor[*ScanActivities]():   {workflows.ActIngest, workflows.ActScoreChunk, workflows.ActStartReviews},
		reflect.TypeFor[*ReviewActivities](): {workflows.ActGatherEvidence, workflows.ActRecordEvent, workflows.ActSavePacket, workflows.ActScoreAccount},
		reflect.TypeFor[*DraftActivities]():  {workflows.ActDraft, workflows.ActDraftOffline},
		reflect.TypeFor[*NotifyActivities](): {workflows.ActNotify, workflows.ActSendDigests, workflows.ActSendOutreach},
		reflect.TypeFor[*ReportActivities](): {workflows.ActBuildReport},
	}
	seen := map[string]reflect.Type{}
	for typ, names := range want {
		var got []string
		for m := range typ.Methods() {
			got = append(got, m.Name)
			if other, dup := seen[m.Name]; dup {
				t.Errorf("%s is a method of both %s and %s: the worker cannot register both", m.Name, other, typ)
			}
			seen[m.Name] = typ
		}
		slices.Sort(names)
		if !slices.Equal(got, names) { // reflect lists methods sorted by name
			t.Errorf("%s registers %v, want %v", typ, got, names)
		}
	}
}
