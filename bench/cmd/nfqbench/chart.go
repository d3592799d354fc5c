package main

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// writeChart draws three panels side by side: throughput per payload size,
// CPU per packet at the first size, and ICMP latency.
func writeChart(w io.Writer, r *Run, s summary) error {
	var names []string
	for _, row := range s.Rows {
		names = append(names, row.Name)
	}
	first := r.Settings.Sizes[0]

	tput := newPanel("Throughput (higher is better)", "thousand packets/s", names)
	var sets [][]float64
	var labels []string
	for _, size := range r.Settings.Sizes {
		sets = append(sets, column(s.Rows, func(row row) float64 { return sizeOf(row, size).PPS / 1000 }))
		labels = append(labels, fmt.Sprintf("%d B", size))
	}
	if err := groupedBars(tput, sets, labels); err != nil {
		return err
	}

	cpu := newPanel(fmt.Sprintf("Consumer CPU at %d B (lower is better)", first), "µs per packet", names)
	user := column(s.Rows, func(row row) float64 { return sizeOf(row, first).UserUs })
	sys := column(s.Rows, func(row row) float64 { return sizeOf(row, first).SysUs })
	if err := stackedBars(cpu, [][]float64{user, sys}, []string{"user", "system"}); err != nil {
		return err
	}

	latRows := append(append([]row(nil), s.Rows...), row{Name: "no queue", P50: s.Baseline.P50, P99: s.Baseline.P99})
	lat := newPanel("ICMP round trip (lower is better)", "µs", append(names, "no queue"))
	p50 := column(latRows, func(row row) float64 { return row.P50 })
	p99 := column(latRows, func(row row) float64 { return row.P99 })
	if err := groupedBars(lat, [][]float64{p50, p99}, []string{"p50", "p99"}); err != nil {
		return err
	}

	plots := [][]*plot.Plot{{tput, cpu, lat}}
	for _, p := range plots[0] {
		leaveRoom(p)
	}
	img := vgimg.New(18*vg.Inch, 5.5*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 3, PadX: vg.Inch / 3, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	canvases := plot.Align(plots, tiles, dc)
	for i, p := range plots[0] {
		p.Draw(canvases[0][i])
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

func newPanel(title, yLabel string, names []string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.Y.Min = 0
	p.NominalX(names...)
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// leaveRoom raises the top of the y axis so the legend clears the bars,
// and puts round-number ticks on it.
func leaveRoom(p *plot.Plot) {
	p.Y.Max *= 1.25
	p.X.Min -= 0.3 // grouped bars stick out of their nominal slot
	p.X.Max += 0.3
	p.Y.Tick.Marker = plot.TickerFunc(func(_, max float64) []plot.Tick {
		step := niceStep(max)
		var ticks []plot.Tick
		for i := 0; float64(i)*step <= max; i++ {
			v := float64(i) * step
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 4, 64)})
		}
		return ticks
	})
}

// niceStep is a 1, 2 or 5 times a power of ten that cuts 0..max into at
// most 8 parts.
func niceStep(max float64) float64 {
	if max <= 0 {
		return 1
	}
	base := math.Pow(10, math.Floor(math.Log10(max)))
	for _, m := range []float64{0.1, 0.2, 0.5, 1, 2, 5} {
		if max/(base*m) <= 8 {
			return base * m
		}
	}
	return base * 10
}

var barWidth = vg.Points(14)

// groupedBars puts the bars of each set side by side within each group.
func groupedBars(p *plot.Plot, sets [][]float64, labels []string) error {
	for i, vals := range sets {
		b, err := plotter.NewBarChart(plotter.Values(vals), barWidth)
		if err != nil {
			return err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = barWidth * vg.Length(2*i-len(sets)+1) / 2
		p.Add(b)
		p.Legend.Add(labels[i], b)
	}
	return nil
}

// stackedBars stacks the sets on one another.
func stackedBars(p *plot.Plot, sets [][]float64, labels []string) error {
	var below *plotter.BarChart
	for i, vals := range sets {
		b, err := plotter.NewBarChart(plotter.Values(vals), 2*barWidth)
		if err != nil {
			return err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.LineStyle.Color = color.Transparent
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		p.Legend.Add(labels[i], b)
	}
	return nil
}

func column(rows []row, f func(row) float64) []float64 {
	v := make([]float64, len(rows))
	for i, r := range rows {
		v[i] = f(r)
	}
	return v
}

func sizeOf(r row, size int) *sizeStats {
	if st := r.Sizes[size]; st != nil {
		return st
	}
	return &sizeStats{}
}
