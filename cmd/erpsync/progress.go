package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	gosync "sync"
	"time"

	"go.uber.org/zap"
)

// progress shows how an apply goes: a bar with rate and ETA on a terminal,
// otherwise a structured log line every few seconds with the same figures.
type progress struct {
	out   io.Writer
	log   *zap.Logger
	tty   bool
	total int
	start time.Time

	mu         gosync.Mutex
	done, fail int
	stopc      chan struct{}
	wg         gosync.WaitGroup
}

// progressEvery is how often the figures are shown.
const progressEvery = 5 * time.Second

func newProgress(out io.Writer, log *zap.Logger, total int) *progress {
	p := &progress{out: out, log: log, total: total, start: time.Now(), stopc: make(chan struct{})}
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	every := progressEvery
	if p.tty {
		every = 200 * time.Millisecond
	}
	if total == 0 {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stopc:
				return
			case <-t.C:
				p.show()
			}
		}
	}()
	return p
}

func (p *progress) add(failed bool) {
	p.mu.Lock()
	p.done++
	if failed {
		p.fail++
	}
	p.mu.Unlock()
}

func (p *progress) figures() (done, fail int, rate float64, eta time.Duration) {
	p.mu.Lock()
	done, fail = p.done, p.fail
	p.mu.Unlock()
	elapsed := time.Since(p.start).Seconds()
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	if rate > 0 {
		eta = time.Duration(float64(p.total-done) / rate * float64(time.Second)).Round(time.Second)
	}
	return
}

func (p *progress) show() {
	done, fail, rate, eta := p.figures()
	if !p.tty {
		p.log.Info("progress", zap.Int("done", done), zap.Int("total", p.total), zap.Int("failed", fail),
			zap.Float64("per_second", rate), zap.Duration("eta", eta))
		return
	}
	const width = 30
	filled := width * done / max(p.total, 1)
	fmt.Fprintf(p.out, "\r[%s%s] %d/%d  %.0f/s  ETA %s  failed %d ",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, p.total, rate, eta, fail)
}

// stop ends the display with the final figures.
func (p *progress) stop() {
	close(p.stopc)
	p.wg.Wait()
	if p.total == 0 {
		return
	}
	p.show()
	if p.tty {
		fmt.Fprintln(p.out)
	}
}
