from riskcards.cli import main

main()
