"""A sphinx-gallery image scraper for the figures gradkit.plot returns.

gradkit's figures are drawn on their own Agg canvas and never registered with pyplot, so
sphinx-gallery's matplotlib scraper does not see them; this one finds every new
``matplotlib.figure.Figure`` among the example's variables after each code block.
"""
from matplotlib.figure import Figure
from sphinx_gallery.scrapers import figure_rst

_seen = set()


def gradkit_figures(block, block_vars, gallery_conf):
    figures = [v for v in block_vars["example_globals"].values()
               if isinstance(v, Figure) and id(v) not in _seen]
    paths = []
    for fig, path in zip(figures, block_vars["image_path_iterator"]):
        _seen.add(id(fig))
        fig.savefig(path, dpi=100, bbox_inches="tight")
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


def _get_sg_image_scraper():
    """sphinx-gallery's hook: lets conf.py name this scraper by its module name."""
    return gradkit_figures
