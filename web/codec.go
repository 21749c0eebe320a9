package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/churnwatch/churnwatch/codec"
	"github.com/churnwatch/churnwatch/review"
)

// maxCodecBytes bounds a codec request: the UI sends an event's payloads,
// which Temporal caps at 2 MB each by default.
const maxCodecBytes = 8 << 20

// uiOrigins are the origins the embedded Web UI on 127.0.0.1:UIPort is
// opened from, the only ones that may call /codec/; nil when the codec is
// not served.
func (s *Server) uiOrigins() map[string]bool {
	if s.Codec == nil || s.Config.UIPort == 0 {
		return nil
	}
	port := strconv.Itoa(s.Config.UIPort)
	return map[string]bool{"http://127.0.0.1:" + port: true, "http://localhost:" + port: true}
}

// registerCodec serves the payload codec to the Temporal Web UI at /codec/
// (POST /codec/decode and /codec/encode) for a signed-in leader or admin
// only: every review's payloads (notes, drafts) pass through it. The UI
// calls it with the session cookie (SameSite=Lax, so only pages of this
// site send it) and checkCSRF lets only the UI's origins through: no form
// token, the Origin is the check.
func (s *Server) registerCodec(mux *http.ServeMux) {
	if s.codecOrigins == nil {
		return
	}
	// codec.Handler answers CORS for one origin: one handler per origin.
	byOrigin := map[string]http.Handler{}
	for o := range s.codecOrigins {
		byOrigin[o] = http.StripPrefix("/codec", codec.Handler(s.Codec, o))
	}
	mux.HandleFunc("/codec/", func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := byOrigin[origin]
		if h == nil { // checkCSRF refuses these first; kept so no path skips it
			apiError(w, http.StatusForbidden, "the payload codec answers the Temporal Web UI only")
			return
		}
		if r.Method == http.MethodOptions {
			// A preflight carries no cookie: answered here, the POST is checked.
			h.ServeHTTP(w, r)
			return
		}
		// Refusals carry CORS headers too, so the UI can read why.
		refuse := func(status int, msg string) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Add("Vary", "Origin")
			apiError(w, status, msg)
		}
		u, ok, err := s.signedIn(r)
		switch {
		case err != nil:
			s.logger().Error("payload codec", "path", r.URL.Path, "error", err)
			refuse(http.StatusInternalServerError, "the user could not be checked; see the worker log")
			return
		case !ok:
			refuse(http.StatusUnauthorized, "sign in to the review pages at http://"+r.Host+" as a leader or admin to see decoded payloads")
			return
		case !u.SeesAll():
			s.record(r.Context(), review.EventRefused, u.Name, "", "403: payload codec for leaders and admins only")
			refuse(http.StatusForbidden, "only leaders and admins may decode payloads: they hold every review's notes and drafts")
			return
		}
		s.logger().Info("payload codec", "user", u.Name, "op", strings.TrimPrefix(r.URL.Path, "/codec/"), "namespace", r.Header.Get("X-Namespace"))
		r.Body = http.MaxBytesReader(w, r.Body, maxCodecBytes)
		h.ServeHTTP(w, r)
	})
}
