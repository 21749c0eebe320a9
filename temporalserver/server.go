// Package temporalserver runs a real Temporal server inside the worker process,
// persisted in a SQLite file, for the embedded default.
//
// It is the only package in Churnwatch that imports go.temporal.io/server: that
// module is large and slow to build, so keeping it here means only the worker
// binary and this package's own tests link it.
package temporalserver

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// Options describe the embedded server.
type Options struct {
	// DataDir holds the SQLite file. It is created when missing.
	DataDir string
	// IP and Port of the frontend gRPC listener; IP defaults to 127.0.0.1.
	IP   string
	Port int
	// Namespaces to register at start (idempotent).
	Namespaces []string
	// SearchAttributes are the custom search attributes registered on each namespace.
	SearchAttributes map[string]enumspb.IndexedValueType
	// LogLevel is the server's own log level: debug, info, warn or error.
	LogLevel string
	// UIPort, when not 0, serves the Temporal Web UI on 127.0.0.1:UIPort
	// (whatever IP is: the UI has no sign-in). A port already taken leaves
	// the UI off, not the server: Server.UI says so.
	UIPort int
	// UIWritable lets the Web UI's users terminate, cancel, signal, update,
	// reset and start workflows. Off, the UI only reads: an Update from it
	// could decide a review as anyone, past the worker's check of who decides.
	UIWritable bool
	// UICodecEndpoint, when set, is the codec server the Web UI asks to
	// decode the payloads it shows (the worker's /codec, behind the team's
	// sign-in): the browser calls it with its cookies.
	UICodecEndpoint string
}

// Server is a running embedded Temporal server.
type Server struct {
	server  temporal.Server
	ui      *uiserver.Server
	uiURL   string // "" when the UI is off
	uiErr   error  // why the UI is off although asked for
	address string
}

// DatabaseFile is where the server keeps its state inside dataDir.
func DatabaseFile(dataDir string) string {
	return filepath.Join(dataDir, "temporal.db")
}

// Start boots the server and returns once its frontend accepts connections.
func Start(opts Options) (*Server, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = 7233
	}
	if len(opts.Namespaces) == 0 {
		opts.Namespaces = []string{"default"}
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "warn"
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", opts.DataDir, err)
	}
	// Fail early with a clear message rather than deep inside the server.
	if l, err := net.Listen("tcp", net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port))); err != nil {
		return nil, fmt.Errorf("temporal frontend port %d is not free (another worker running?): %w", opts.Port, err)
	} else {
		l.Close()
	}

	conf, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: opts.LogLevel}))
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, svc := range []primitives.ServiceName{primitives.FrontendService, primitives.MatchingService, primitives.HistoryService, primitives.WorkerService} {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(opts.IP, strconv.Itoa(conf.Services[string(svc)].RPC.GRPCPort)))
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// Updates are the approval gate; keep them enabled explicitly.
		dynamicconfig.FrontendEnableUpdateWorkflowExecution.Key(): true,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("build temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{server: srv, address: net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port))}
	if err := waitForPort(s.address, 30*time.Second); err != nil {
		srv.Stop()
		return nil, err
	}
	if opts.UIPort != 0 {
		s.uiErr = s.startUI(opts)
	}
	return s, nil
}

// startUI serves the Web UI unless its port is taken. The UI is a window
// on the server, not worth stopping reviews for, yet ui-server's Start ends
// the process (echo's Logger.Fatal) when it cannot listen; so listen first,
// and on a busy port leave the UI off. ui-server takes no listener, so this
// one is closed for it to listen again: only a process taking the port in
// that moment can still end the worker.
func (s *Server) startUI(opts Options) error {
	addr := net.JoinHostPort(uiHost, strconv.Itoa(opts.UIPort))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("temporal.ui_port %d is not free, so the Web UI is off (set another port, or 0): %w", opts.UIPort, err)
	}
	if err := l.Close(); err != nil {
		return fmt.Errorf("temporal.ui_port %d: %w", opts.UIPort, err)
	}
	s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(uiConfig(opts, s.address)))
	ui := s.ui
	go func() { _ = ui.Start() }() // blocks while serving
	s.uiURL = "http://" + addr
	return nil
}

// UI says where the Web UI is served: its URL; "" when it is off; or, with
// an error, why it could not be served.
func (s *Server) UI() (url string, err error) { return s.uiURL, s.uiErr }

// uiHost is where the Web UI listens, always: it has no sign-in, so anyone
// who reaches it reads every review's history (and, writable, acts on it). A
// frontend on another IP (a container's, say) does not widen that; reach the
// UI from elsewhere through an SSH tunnel or a proxy that signs people in.
const uiHost = "127.0.0.1"

// uiConfig is the Web UI's configuration for opts, in front of the frontend
// at grpcAddress: loopback only, and read-only unless opts.UIWritable.
func uiConfig(opts Options, grpcAddress string) *uiconfig.Config {
	readOnly := !opts.UIWritable
	return &uiconfig.Config{
		Host:                uiHost,
		Port:                opts.UIPort,
		TemporalGRPCAddress: grpcAddress,
		EnableUI:            true,
		PublicPath:          "",
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		// DisableWriteActions makes the UI server refuse every write of its
		// API (queries still pass); the finer switches hide the buttons, so
		// the UI does not offer what the server would refuse.
		DisableWriteActions:       readOnly,
		WorkflowTerminateDisabled: readOnly,
		WorkflowCancelDisabled:    readOnly,
		WorkflowSignalDisabled:    readOnly,
		WorkflowUpdateDisabled:    readOnly,
		WorkflowResetDisabled:     readOnly,
		BatchActionsDisabled:      readOnly,
		StartWorkflowDisabled:     readOnly,
		ActivityCommandsDisabled:  readOnly,
		// The codec server signs people in by the pages' session cookie,
		// so the browser must send it; the UI has no access token to pass.
		Codec: uiconfig.Codec{Endpoint: opts.UICodecEndpoint, IncludeCredentials: opts.UICodecEndpoint != ""},
	}
}

// Address is the frontend's host:port.
func (s *Server) Address() string { return s.address }

// Stop shuts the server (and its UI) down.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	s.server.Stop()
}

// private makes the server's SQLite files, which hold every workflow's
// history, readable by this user only. SQLite gives the -wal and -shm files
// it creates later the database file's mode.
func private(db string) error {
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		// Not ours to change (another owner): left as it is.
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("restrict %s: %w", p, err)
		}
	}
	return nil
}

func buildConfig(opts Options) (*config.Config, error) {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = opts.IP

	sqlConf := config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: DatabaseFile(opts.DataDir),
		ConnectAttributes: map[string]string{
			"mode": "rwc",
			// Keys other than SQLite URI parameters become pragmas. WAL lets
			// readers work beside the one writer, and with synchronous=NORMAL
			// a commit is not an fsync: every committed transaction survives a
			// kill -9 of the process (only a power cut can lose the last few).
			"journal_mode": "wal",
			"synchronous":  "normal",
			"busy_timeout": "10000",
		},
		// One connection: with more, concurrent write transactions fail with
		// SQLITE_BUSY_SNAPSHOT instead of waiting.
		MaxConns: 1,
	}
	if _, err := os.Stat(sqlConf.DatabaseName); errors.Is(err, os.ErrNotExist) {
		if err := sqliteschema.SetupSchema(&sqlConf); err != nil {
			return nil, fmt.Errorf("set up temporal schema in %s: %w", sqlConf.DatabaseName, err)
		}
	}
	if err := private(sqlConf.DatabaseName); err != nil {
		return nil, err
	}
	const clusterName = "active"
	var nsConfigs []*sqliteschema.NamespaceConfig
	for _, ns := range opts.Namespaces {
		c, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, opts.SearchAttributes)
		if err != nil {
			return nil, fmt.Errorf("namespace %s config: %w", ns, err)
		}
		nsConfigs = append(nsConfigs, c)
	}
	if err := sqliteschema.CreateNamespaces(&sqlConf, nsConfigs...); err != nil {
		return nil, fmt.Errorf("register namespaces: %w", err)
	}

	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: &sqlConf}}

	httpPort, err := freePort(opts.IP)
	if err != nil {
		return nil, err
	}
	frontend := net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port))
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend,
				HTTPAddress:            net.JoinHostPort(opts.IP, strconv.Itoa(httpPort)),
				// Any fixed UUID: the cluster is this process's own.
				ClusterID: "6c0e1f1e-2b53-4d7e-9f4b-6e1c3b2a9d10",
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range temporal.DefaultServices {
		var svc config.Service
		svc.RPC.BindOnIP = opts.IP
		if name == string(primitives.FrontendService) {
			svc.RPC.GRPCPort = opts.Port
			svc.RPC.HTTPPort = httpPort
		} else {
			p, err := freePort(opts.IP)
			if err != nil {
				return nil, err
			}
			svc.RPC.GRPCPort = p
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend
	return &conf, nil
}

func freePort(ip string) (int, error) { return FreePort(ip) }

// FreePort finds a port free on ip below the kernel's ephemeral range. A
// port the kernel picks for ":0" comes from that range, where any outgoing
// connection may take it between the check and the bind; the Temporal
// server exits the whole process when one of its listeners cannot bind, so
// its internal ports are drawn from the range no connection is given.
func FreePort(ip string) (int, error) {
	const lo, hi = 20000, 32768 // Linux hands out 32768-60999 to connections
	start := rand.IntN(hi - lo)
	for i := range hi - lo {
		p := lo + (start+i)%(hi-lo)
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		return p, nil
	}
	return 0, fmt.Errorf("find a free port on %s: none free in %d-%d", ip, lo, hi-1)
}

func waitForPort(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal frontend %s did not come up in %s: %w", addr, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
