package org.hybridv.compare;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.svg.SVGGraphics2D;

/**
 * The comparison's charts as SVG, drawn by JFreeChart onto JFreeSVG's {@link SVGGraphics2D}: per generation the
 * predicted time of every workload relative to native, one bar per platform, with lines at 1 (native) and at
 * {@link Comparison#CLOSE}; and the events of one iteration of every lmbench row stacked per platform. Deterministic:
 * the element-id prefix is fixed (JFreeSVG's default contains {@code System.nanoTime()}), fonts are the logical
 * {@code SansSerif}, no timestamp is written.
 */
public final class Charts {
    private Charts() {}

    /** Width and height of every chart, in pixels. */
    public static final int WIDTH = 960;
    public static final int HEIGHT = 540;

    /** The file names and SVG documents of every chart, in a fixed order. */
    public static Map<String, String> render(Comparison.Report r) {
        Map<String, String> out = new LinkedHashMap<>();
        for (CostModel.Generation g : r.model().generations()) {
            out.put("relative-" + g.id() + ".svg", relative(r, g));
        }
        out.put("events.svg", events(r));
        return out;
    }

    /** Writes the charts into {@code dir} (created if missing); returns the files written. */
    public static List<Path> write(Comparison.Report r, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (Map.Entry<String, String> e : render(r).entrySet()) {
            Path p = dir.resolve(e.getKey());
            Files.writeString(p, e.getValue(), StandardCharsets.UTF_8);
            written.add(p);
        }
        return written;
    }

    static String relative(Comparison.Report r, CostModel.Generation g) {
        DefaultCategoryDataset ds = new DefaultCategoryDataset();
        for (Comparison.Measured m : r.rows()) {
            for (Target t : Target.values()) {
                if (t == Target.NATIVE) {
                    continue;
                }
                Comparison.Prediction p = r.predictions().stream().filter(x -> x.workload().equals(m.name())
                        && x.target() == t && x.generation().equals(g.id())).findFirst().orElseThrow();
                ds.addValue(p.mid(), t.label(), m.name());
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Predicted time relative to native: " + g.name(),
                "workload", "time / native time (cost midpoints)", ds, PlotOrientation.VERTICAL, true, false, false);
        chart.addSubtitle(new TextTitle("Cost model costs.json, " + g.years() + "; line at 1 = native, dashed at "
                + Comparison.fmt(Comparison.CLOSE) + " = close to native"));
        CategoryPlot plot = chart.getCategoryPlot();
        plot.addRangeMarker(new ValueMarker(1.0, Color.BLACK, new BasicStroke(1.5f)));
        plot.addRangeMarker(new ValueMarker(Comparison.CLOSE, Color.DARK_GRAY, new BasicStroke(1f,
                BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)));
        plot.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.STANDARD);
        plot.getDomainAxis().setMaximumCategoryLabelWidthRatio(1.5f); // "mmap/munmap" whole, not "mmap/mu..."
        return svg(chart);
    }

    static String events(Comparison.Report r) {
        DefaultCategoryDataset ds = new DefaultCategoryDataset();
        List<Comparison.Measured> rows = r.rows().subList(0, Workload.lmbenchRows().size());
        String[][] families = {{"VM exits", "vmexit:"}, {"hypercalls", "hypercall:"}, {"PV traps", "pv:trap:"},
            {"CR3 switches", "cr3-switch"}, {"TLB misses", "tlb-miss"}};
        List<String> names = new ArrayList<>();
        for (Comparison.Measured m : rows) {
            names.add(m.name());
        }
        for (String[] f : families) {
            for (Target t : Target.values()) {
                long n = 0;
                for (Comparison.Measured m : rows) {
                    n += m.events().get(t).family(f[1]);
                }
                ds.addValue(n, f[0], t.label());
            }
        }
        JFreeChart chart = ChartFactory.createStackedBarChart("Events per platform: one iteration of every"
                + " lmbench-like row", "platform", "events", ds, PlotOrientation.VERTICAL, true, false, false);
        chart.addSubtitle(new TextTitle("rows: " + String.join(", ", names)));
        return svg(chart);
    }

    private static String svg(JFreeChart chart) {
        StandardChartTheme theme = (StandardChartTheme) StandardChartTheme.createJFreeTheme();
        theme.setExtraLargeFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        theme.setLargeFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        theme.setRegularFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        theme.setSmallFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        theme.setBarPainter(new StandardBarPainter());
        theme.setShadowVisible(false);
        theme.apply(chart);
        chart.setBackgroundPaint(Color.WHITE);
        chart.getCategoryPlot().setBackgroundPaint(Color.WHITE);
        chart.getCategoryPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        if (chart.getCategoryPlot().getRenderer() instanceof BarRenderer br) {
            br.setShadowVisible(false);
        }
        SVGGraphics2D g2 = new SVGGraphics2D(WIDTH, HEIGHT);
        g2.setDefsKeyPrefix("hybridv");
        chart.draw(g2, new Rectangle(0, 0, WIDTH, HEIGHT));
        return g2.getSVGDocument() + "\n";
    }
}
