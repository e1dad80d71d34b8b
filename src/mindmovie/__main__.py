"""`python -m mindmovie` runs the same CLI as the console script."""

from mindmovie.entry import main

main()
