from linzhang.cli import main

main()
