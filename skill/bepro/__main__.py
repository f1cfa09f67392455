from bepro.surfaces.cli import main

main()
