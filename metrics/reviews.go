package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// Queuer counts reviews: store.Store has it.
type Queuer interface {
	ReviewCounts(ctx context.Context) (map[review.State]map[risk.Tier]int, error)
}

// scrapeTimeout bounds the store's part of one scrape.
const scrapeTimeout = 10 * time.Second

var reviewsDesc = prometheus.NewDesc("churnwatch_reviews",
	"Reviews in the decision record by state and tier, counted at scrape time.",
	[]string{"state", "tier"}, nil)

// CountReviews adds churnwatch_reviews, counted from q at each scrape: the
// record, not this process, knows every worker's reviews.
func (m *Metrics) CountReviews(q Queuer) error {
	if m == nil {
		return nil
	}
	if err := m.registry.Register(reviewCounter{q}); err != nil {
		return fmt.Errorf("register review counts: %w", err)
	}
	return nil
}

type reviewCounter struct{ q Queuer }

func (c reviewCounter) Describe(ch chan<- *prometheus.Desc) { ch <- reviewsDesc }

// Collect counts every state and tier in one query; no packet is read, and
// a state or tier with no review is reported as 0.
func (c reviewCounter) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.q.ReviewCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(reviewsDesc, fmt.Errorf("count reviews: %w", err))
		return
	}
	for _, s := range review.States {
		for _, t := range risk.Tiers {
			ch <- prometheus.MustNewConstMetric(reviewsDesc, prometheus.GaugeValue, float64(counts[s][t]), string(s), string(t))
		}
	}
}
