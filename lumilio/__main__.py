from lumilio.cli import main

main()
