from kernelish import main

main()
