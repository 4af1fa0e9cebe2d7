"""A sphinx-gallery image scraper for the figures gradkit.plot returns.

gradkit's figures are drawn on their own Agg canvas and never registered with pyplot, so
sphinx-gallery's matplotlib scraper does not see them; this one finds every new
``matplotlib.figure.Figure`` among the example's variables after each code block. An
example shows its figure by keeping it in a module-level variable (``figure = main()``).
"""
import weakref

from matplotlib.figure import Figure

# Figures already shown, held weakly: an id() could be reused by a later example's figure.
_seen = weakref.WeakSet()


def figures_in(variables):
    """The ``Figure`` objects among ``variables`` (a module's globals), in definition order."""
    return [v for v in variables.values() if isinstance(v, Figure)]


def gradkit_figures(block, block_vars, gallery_conf):
    from sphinx_gallery.scrapers import figure_rst

    figures = [f for f in figures_in(block_vars["example_globals"]) if f not in _seen]
    paths = []
    for fig, path in zip(figures, block_vars["image_path_iterator"]):
        _seen.add(fig)
        fig.savefig(path, dpi=100, bbox_inches="tight")
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


def _get_sg_image_scraper():
    """sphinx-gallery's hook: lets conf.py name this scraper by its module name."""
    return gradkit_figures
