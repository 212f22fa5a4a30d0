package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/leakcheck"

	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// The fan-out benchmark's subscribers run in a child process (this test
// binary again, see TestMain): 10,000 subscribers are 20,000 sockets on
// loopback, more than one process may open here, and the server's memory
// per subscriber is then measured without the clients' own.
const fanoutEnv = "SSE_FANOUT_CLIENTS" // "addr subscribers stalled events"

// TestMain runs the fan-out clients when asked to (see fanoutEnv), else
// the tests, and fails the run when goroutines are left behind: a stream,
// subscription or follower that outlives its client is a leak.
func TestMain(m *testing.M) {
	if spec := os.Getenv(fanoutEnv); spec != "" {
		os.Exit(fanoutClients(spec))
	}
	os.Exit(leakcheck.After(m.Run()))
}

// fanoutClients opens the subscribers, says "ready" on stdout once every
// one has its stream open, and "done" once every reading subscriber has
// counted all events; stalled subscribers never read past the opening. It
// exits when stdin closes.
func fanoutClients(spec string) int {
	var addr string
	var n, stalled, events int
	if _, err := fmt.Sscan(spec, &addr, &n, &stalled, &events); err != nil {
		fmt.Fprintln(os.Stderr, "bad spec:", err)
		return 2
	}
	var opened, finished sync.WaitGroup
	var failed atomic.Value
	conns := make([]net.Conn, n)
	opened.Add(n)
	finished.Add(n - stalled)
	for i := range n {
		go func() {
			c, br, err := openSubscriber(addr)
			if err != nil {
				failed.Store(err)
				opened.Done()
				if i >= stalled {
					finished.Done()
				}
				return
			}
			conns[i] = c
			opened.Done()
			if i < stalled {
				return // never reads again
			}
			defer finished.Done()
			// Count blank lines ("\n\n"): one per event, the chunked
			// framing has none.
			buf := make([]byte, 32<<10)
			count, prev := 0, byte(0)
			for count < events {
				k, err := br.Read(buf)
				for _, b := range buf[:k] {
					if b == '\n' && prev == '\n' {
						count++
						b = 0
					}
					prev = b
				}
				if err != nil {
					failed.Store(fmt.Errorf("subscriber %d after %d events: %v", i, count, err))
					return
				}
			}
		}()
		if i%500 == 499 {
			time.Sleep(10 * time.Millisecond) // do not overflow the listen backlog
		}
	}
	opened.Wait()
	if err, _ := failed.Load().(error); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	finished.Wait()
	if err, _ := failed.Load().(error); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("done")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return 0
}

// openSubscriber sends the GET and reads up to the end of the opening
// comment.
func openSubscriber(addr string) (net.Conn, *bufio.Reader, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.WriteString(c, "GET /?topic=fan HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
		c.Close()
		return nil, nil, err
	}
	br := bufio.NewReaderSize(c, 512)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, nil, err
		}
		if strings.HasPrefix(line, "HTTP/") && !strings.Contains(line, " 200 ") {
			c.Close()
			return nil, nil, fmt.Errorf("status %q", line)
		}
		if line == ":ok\n" {
			return c, br, nil
		}
	}
}

func heapAndStacks() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkFanout: one publisher, 10,000 subscribers over loopback HTTP
// (Broker.ServeHTTP), 200 events of 100 bytes each. It reports the events
// delivered per second (to every subscriber that reads), the server's
// memory per subscriber (heap and stacks: the handler, net/http's
// connection buffers, the queue) and the longest Publish call. In
// "stalled-1pct", 100 of the subscribers never read: what they cost the
// others is the difference between the two runs.
func BenchmarkFanout(b *testing.B) {
	for _, stalled := range []int{0, 100} {
		name := "subscribers=10000"
		if stalled > 0 {
			name += "/stalled-1pct"
		}
		b.Run(name, func(b *testing.B) { benchFanout(b, 10_000, stalled, 200) })
	}
}

func benchFanout(b *testing.B, n, stalled, events int) {
	payload := strings.Repeat("x", 100)
	for range b.N {
		b.StopTimer()
		broker := server.NewBroker(server.BrokerOptions{History: events})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		hs := &http.Server{Handler: broker, ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(ln)
		before := heapAndStacks()

		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d %d", fanoutEnv, ln.Addr(), n, stalled, events))
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		expect := func(want string) {
			if !lines.Scan() || lines.Text() != want {
				b.Fatalf("subscriber process: %q (%v), want %q", lines.Text(), lines.Err(), want)
			}
		}
		expect("ready")
		perSub := float64(heapAndStacks()-before) / float64(n)

		b.StartTimer()
		start := time.Now()
		var slowest time.Duration
		for i := range events {
			t := time.Now()
			if _, err := broker.Publish("fan", sse.Message{Data: payload[:100-len(strconv.Itoa(i))] + strconv.Itoa(i)}); err != nil {
				b.Fatal(err)
			}
			slowest = max(slowest, time.Since(t))
		}
		publishing := time.Since(start)
		expect("done")
		elapsed := time.Since(start)
		b.StopTimer()

		b.ReportMetric(float64((n-stalled)*events)/elapsed.Seconds(), "events/s")
		b.ReportMetric(perSub, "B/subscriber")
		b.ReportMetric(float64(slowest.Microseconds()), "µs-max-publish")
		b.ReportMetric(float64(publishing.Milliseconds()), "ms-publishing")
		b.ReportMetric(float64(elapsed.Milliseconds()), "ms-all-delivered")

		stdin.Close()
		cmd.Wait()
		broker.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		hs.Shutdown(ctx)
		cancel()
	}
}

// BenchmarkPublish: the publisher's cost per event with 10,000 in-process
// subscribers (no HTTP), each reading with Next in its own goroutine, and
// with 1% of them stalled (never reading). ns/op is one Publish;
// ns/subscriber is that divided by the subscribers. With -benchtime=1x the
// one Publish wakes all 10,000 from sleep; with more, most are busy reading
// when the next one comes.
func BenchmarkPublish(b *testing.B) {
	for _, stalled := range []int{0, 100} {
		name := "subscribers=10000"
		if stalled > 0 {
			name += "/stalled-1pct"
		}
		b.Run(name, func(b *testing.B) {
			const n = 10_000
			broker := server.NewBroker(server.BrokerOptions{})
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for i := range n {
				sub, err := broker.Subscribe("t", "")
				if err != nil {
					b.Fatal(err)
				}
				if i < stalled {
					defer sub.Close()
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer sub.Close()
					for {
						if _, err := sub.Next(ctx); err != nil {
							return
						}
					}
				}()
			}
			msg := sse.Message{Data: strings.Repeat("x", 100)}
			b.ResetTimer()
			for range b.N {
				broker.Publish("t", msg)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/subscriber")
			cancel()
			wg.Wait()
			broker.Close()
		})
	}
}
