# panels.gp: the layout of a small-multiples plot whose every panel has its
# own key (compare-ratio.gp, sweep.gp). Loaded before common.gp, which then
# takes canvas_w and canvas_h from here.
#
# In: npanels (how many), kmax (the most key lines in one panel), keychars
# (the longest key title). Out: ncols, nrows, canvas_w, canvas_h and
# panel_cmd, which `eval panel_cmd` turns, for panel i (1-based, row by
# row), into its margins and the place of its key, right of it.

ncols = npanels < 3 ? (npanels < 1 ? 1 : npanels) : 3
nrows = (npanels + ncols - 1) / ncols
nrows = nrows < 1 ? 1 : nrows

# A cell, in pixels: y tic labels and label, the plot, the key; above it
# three title lines and the PU label, below it the x tic labels and label.
left_px = 80
plot_px = 360
key_px = 7 * keychars + 70
cell_w = left_px + plot_px + key_px
top_px = 70
plot_h = 18 * kmax + 60 > 300 ? 18 * kmax + 60 : 300
bottom_px = 55
cell_h = top_px + plot_h + bottom_px
head_px = 70            # the two-line title of the whole page
canvas_w = ncols * cell_w + 20
canvas_w = canvas_w < 960 ? 960 : canvas_w
canvas_h = head_px + nrows * cell_h

panel_cmd = "x0 = ((i - 1) % ncols) * cell_w + 10.0; " . \
	"y0 = head_px + ((i - 1) / ncols) * cell_h + 0.0; " . \
	"set lmargin at screen (x0 + left_px) / canvas_w; " . \
	"set rmargin at screen (x0 + left_px + plot_px) / canvas_w; " . \
	"set tmargin at screen 1 - (y0 + top_px) / canvas_h; " . \
	"set bmargin at screen 1 - (y0 + top_px + plot_h) / canvas_h; " . \
	"set key at screen (x0 + left_px + plot_px + 12) / canvas_w, " . \
	"screen 1 - (y0 + top_px) / canvas_h top left vertical Left reverse noenhanced " . \
	"samplen 3 spacing 1.1 box lc rgb '#bbbbbb'"
