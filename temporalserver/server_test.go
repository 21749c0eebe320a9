package temporalserver

import "testing"

// TestUIConfig checks the Web UI's switches: loopback whatever the
// frontend's IP, and read-only unless UIWritable.
func TestUIConfig(t *testing.T) {
	for _, writable := range []bool{false, true} {
		c := uiConfig(Options{IP: "0.0.0.0", UIPort: 8233, UIWritable: writable}, "0.0.0.0:7233")
		if c.Host != "127.0.0.1" || c.Port != 8233 || c.TemporalGRPCAddress != "0.0.0.0:7233" {
			t.Errorf("writable %v: host %q port %d frontend %q", writable, c.Host, c.Port, c.TemporalGRPCAddress)
		}
		for name, disabled := range map[string]bool{
			"DisableWriteActions":       c.DisableWriteActions,
			"WorkflowTerminateDisabled": c.WorkflowTerminateDisabled,
			"WorkflowCancelDisabled":    c.WorkflowCancelDisabled,
			"WorkflowSignalDisabled":    c.WorkflowSignalDisabled,
			"WorkflowUpdateDisabled":    c.WorkflowUpdateDisabled,
			"WorkflowResetDisabled":     c.WorkflowResetDisabled,
			"BatchActionsDisabled":      c.BatchActionsDisabled,
			"StartWorkflowDisabled":     c.StartWorkflowDisabled,
			"ActivityCommandsDisabled":  c.ActivityCommandsDisabled,
		} {
			if disabled == writable {
				t.Errorf("UIWritable %v: %s = %v", writable, name, disabled)
			}
		}
	}
}

// TestUICodecConfig checks that the UI decodes through the worker's codec
// endpoint with the browser's cookies, and through nothing without one.
func TestUICodecConfig(t *testing.T) {
	c := uiConfig(Options{UIPort: 8233, UICodecEndpoint: "http://127.0.0.1:8080/codec"}, "127.0.0.1:7233")
	if c.Codec.Endpoint != "http://127.0.0.1:8080/codec" || !c.Codec.IncludeCredentials || c.Codec.PassAccessToken {
		t.Errorf("codec %+v", c.Codec)
	}
	if c := uiConfig(Options{UIPort: 8233}, "127.0.0.1:7233"); c.Codec.Endpoint != "" || c.Codec.IncludeCredentials {
		t.Errorf("without an endpoint: codec %+v", c.Codec)
	}
}
